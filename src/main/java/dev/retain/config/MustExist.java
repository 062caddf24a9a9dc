package dev.retain.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@code Path} field (or a list/map of paths): the file or folder must exist when the config
 * is validated, so that a wrong path stops the run before hours of work rather than at the first
 * checkpoint. A null (absent, optional) value is not checked.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface MustExist {}
