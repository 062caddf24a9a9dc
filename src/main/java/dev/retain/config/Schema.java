package dev.retain.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bindable fields of one config class, in declaration order (superclass fields first), read
 * once by reflection and cached. Mistakes in the class itself (unsupported types, misplaced
 * annotations, clashing keys) fail here with {@link IllegalStateException}: they are bugs for the
 * developer, never errors in the user's YAML.
 */
final class Schema {
  private static final ClassValue<Schema> CACHE =
      new ClassValue<>() {
        @Override
        protected Schema computeValue(Class<?> type) {
          return new Schema(type);
        }
      };

  final Class<?> type;
  final List<Prop> props;
  final Map<String, Prop> byKey;
  private final Constructor<?> constructor;

  static Schema of(Class<?> type) {
    return CACHE.get(type);
  }

  private Schema(Class<?> type) {
    this.type = type;
    if (type.isInterface() || Modifier.isAbstract(type.getModifiers()) || type.isEnum()
        || type.isRecord()) {
      throw new IllegalStateException(type.getName()
          + " cannot be a config class: it must be a concrete class with mutable public fields");
    }
    try {
      constructor = type.getDeclaredConstructor();
      constructor.setAccessible(true);
    } catch (NoSuchMethodException | RuntimeException e) {
      throw new IllegalStateException(type.getName() + " needs a no-argument constructor to be a config class", e);
    }
    List<Class<?>> chain = new ArrayList<>();
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      chain.add(0, c);
    }
    List<Prop> list = new ArrayList<>();
    Map<String, Prop> keys = new LinkedHashMap<>();
    for (Class<?> c : chain) {
      for (Field f : c.getDeclaredFields()) {
        int m = f.getModifiers();
        if (Modifier.isStatic(m) || Modifier.isTransient(m) || !Modifier.isPublic(m) || f.isSynthetic()) {
          continue;
        }
        String where = c.getName() + "." + f.getName();
        if (Modifier.isFinal(m)) {
          throw new IllegalStateException(where + ": config fields must not be final (the binder assigns them)");
        }
        f.setAccessible(true);
        Key k = f.getAnnotation(Key.class);
        String key = k != null ? k.value() : Names.snake(f.getName());
        if (key.isEmpty() || key.matches(".*[.\\[\\]=\\s].*")) {
          throw new IllegalStateException(where + ": invalid YAML key '" + key + "'");
        }
        Prop p = new Prop(f, key, VType.of(f.getGenericType(), true, where));
        checkAnnotations(p, where);
        Prop clash = keys.put(key, p);
        if (clash != null) {
          throw new IllegalStateException(where + ": YAML key '" + key + "' is also used by " + clash.field);
        }
        list.add(p);
      }
    }
    this.props = Collections.unmodifiableList(list);
    this.byKey = Collections.unmodifiableMap(keys);
  }

  private static void checkAnnotations(Prop p, String where) {
    VType leaf = p.type.leaf();
    if (p.range != null) {
      if (!(leaf instanceof VType.Scalar s && s.numeric())) {
        throw new IllegalStateException(where + ": @Range needs a numeric field, got " + p.type.docName());
      }
      if (Double.isNaN(p.range.min()) || Double.isNaN(p.range.max()) || p.range.min() > p.range.max()) {
        throw new IllegalStateException(where + ": @Range min must not exceed max");
      }
    }
    if (p.mustExist && !(leaf instanceof VType.Scalar s && s.kind() == VType.Kind.PATH)) {
      throw new IllegalStateException(where + ": @MustExist needs a Path field, got " + p.type.docName());
    }
  }

  List<String> keys() {
    return new ArrayList<>(byKey.keySet());
  }

  Object newInstance() {
    try {
      return constructor.newInstance();
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("constructor of " + type.getName() + " failed", e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot instantiate " + type.getName(), e);
    }
  }
}
