package dev.retain.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Allowed interval of a numeric key (int, long, double, their boxes, or each element/value of a
 * list or map of numbers). Bounds are inclusive unless marked exclusive; an unset bound is
 * infinite. {@code @Range(min = 0, minExclusive = true)} reads "must be &gt; 0". NaN is never in
 * range.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Range {
  double min() default Double.NEGATIVE_INFINITY;

  double max() default Double.POSITIVE_INFINITY;

  boolean minExclusive() default false;

  boolean maxExclusive() default false;
}
