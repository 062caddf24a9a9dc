package dev.retain.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The YAML name of a field, for the rare case where the default (the field name in snake_case,
 * {@code replayRatio} -> {@code replay_ratio}) is not what users should write, e.g. a name that is
 * a Java keyword or an established spelling such as {@code "lora_r"}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Key {
  String value();
}
