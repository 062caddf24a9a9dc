package dev.retain.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A typical value, as it would be written in the YAML file. Shown in the generated reference and in
 * the fix suggested for a missing {@link Required} key, where the default alone says too little.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Example {
  String value();
}
