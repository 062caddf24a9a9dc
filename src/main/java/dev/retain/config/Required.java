package dev.retain.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The key has no sensible default and must be written by the user. When loading a file this means
 * the key must appear in the YAML or in a command-line override, and that its value is not null;
 * when checking an object built in code ({@link ConfigBinder#validate}) it means "not null".
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Required {}
