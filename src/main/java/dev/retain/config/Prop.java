package dev.retain.config;

import java.lang.reflect.Field;

/** One bindable field of a config class: its YAML key, shape and annotations. */
final class Prop {
  final Field field;
  final String key;
  final VType type;
  final Range range;
  final boolean required;
  final boolean mustExist;
  final String doc;
  final String example;

  Prop(Field field, String key, VType type) {
    this.field = field;
    this.key = key;
    this.type = type;
    this.range = field.getAnnotation(Range.class);
    this.required = field.isAnnotationPresent(Required.class);
    this.mustExist = field.isAnnotationPresent(MustExist.class);
    Doc d = field.getAnnotation(Doc.class);
    this.doc = d == null ? "" : d.value();
    Example e = field.getAnnotation(Example.class);
    this.example = e == null ? null : e.value();
  }

  boolean primitive() {
    return field.getType().isPrimitive();
  }

  Object get(Object owner) {
    try {
      return field.get(owner);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot read " + field, e);
    }
  }

  void set(Object owner, Object value) {
    try {
      field.set(owner, value);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot write " + field, e);
    }
  }
}
