package dev.retain.config;

import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The shape of a value that a config field can hold, derived once from the field's Java type. */
sealed interface VType permits VType.Scalar, VType.Obj, VType.ListOf, VType.MapOf {

  /** What the user is told the value must be: "an integer", "a list of strings". */
  String expected();

  /** Plural noun for use inside collections: "integers", "mappings". */
  String plural();

  /** Type column of the generated reference: "integer", "list of sections". */
  String docName();

  /** The innermost element type (the type itself for scalars and objects). */
  default VType leaf() {
    return this;
  }

  enum Kind {
    STRING,
    INT,
    LONG,
    DOUBLE,
    BOOLEAN,
    ENUM,
    PATH
  }

  /** A single YAML scalar; {@code nullable} is false for primitives and collection elements. */
  record Scalar(Kind kind, Class<?> enumType, boolean nullable) implements VType {
    @Override
    public String expected() {
      return switch (kind) {
        case STRING -> "a string";
        case INT, LONG -> "an integer";
        case DOUBLE -> "a number";
        case BOOLEAN -> "true or false";
        case ENUM -> "one of " + String.join(", ", enumNames(enumType));
        case PATH -> "a path";
      };
    }

    @Override
    public String plural() {
      return switch (kind) {
        case STRING -> "strings";
        case INT, LONG -> "integers";
        case DOUBLE -> "numbers";
        case BOOLEAN -> "booleans";
        case ENUM -> "values among " + String.join(", ", enumNames(enumType));
        case PATH -> "paths";
      };
    }

    @Override
    public String docName() {
      return switch (kind) {
        case STRING -> "string";
        case INT, LONG -> "integer";
        case DOUBLE -> "number";
        case BOOLEAN -> "boolean";
        case ENUM -> "enum";
        case PATH -> "path";
      };
    }

    boolean numeric() {
      return kind == Kind.INT || kind == Kind.LONG || kind == Kind.DOUBLE;
    }
  }

  /** A nested config class, written as a YAML mapping. */
  record Obj(Class<?> type) implements VType {
    @Override
    public String expected() {
      return "a mapping (key: value)";
    }

    @Override
    public String plural() {
      return "mappings";
    }

    @Override
    public String docName() {
      return "section";
    }
  }

  /** {@code List<E>}, written as a YAML sequence. */
  record ListOf(VType element) implements VType {
    @Override
    public String expected() {
      return "a list of " + element.plural();
    }

    @Override
    public String plural() {
      return "lists";
    }

    @Override
    public String docName() {
      return "list of " + docPlural(element);
    }

    @Override
    public VType leaf() {
      return element.leaf();
    }
  }

  /** {@code Map<String, V>} with free-form names, written as a YAML mapping; order is kept. */
  record MapOf(VType value) implements VType {
    @Override
    public String expected() {
      return "a mapping of names to " + value.plural();
    }

    @Override
    public String plural() {
      return "mappings";
    }

    @Override
    public String docName() {
      return "map of name to " + (value instanceof Obj ? "section" : value.docName());
    }

    @Override
    public VType leaf() {
      return value.leaf();
    }
  }

  private static String docPlural(VType t) {
    if (t instanceof Obj) {
      return "sections";
    }
    if (t instanceof Scalar s && s.kind() == Kind.ENUM) {
      return "enums";
    }
    return t.plural();
  }

  /** The YAML spellings of an enum's constants: lower case, in declaration order. */
  static List<String> enumNames(Class<?> enumType) {
    List<String> names = new ArrayList<>();
    for (Object c : enumType.getEnumConstants()) {
      names.add(((Enum<?>) c).name().toLowerCase(Locale.ROOT));
    }
    return names;
  }

  /**
   * Maps a field's generic Java type to its shape, or fails with a message for the author of the
   * config class (an unsupported type is a bug in the code, not in the user's YAML).
   */
  static VType of(Type t, boolean nullable, String where) {
    if (t instanceof Class<?> c) {
      if (c == String.class) {
        return new Scalar(Kind.STRING, null, nullable);
      }
      if (c == int.class || c == Integer.class) {
        return new Scalar(Kind.INT, null, nullable && !c.isPrimitive());
      }
      if (c == long.class || c == Long.class) {
        return new Scalar(Kind.LONG, null, nullable && !c.isPrimitive());
      }
      if (c == double.class || c == Double.class) {
        return new Scalar(Kind.DOUBLE, null, nullable && !c.isPrimitive());
      }
      if (c == boolean.class || c == Boolean.class) {
        return new Scalar(Kind.BOOLEAN, null, nullable && !c.isPrimitive());
      }
      if (c.isEnum()) {
        return new Scalar(Kind.ENUM, c, nullable);
      }
      if (c == Path.class) {
        return new Scalar(Kind.PATH, null, nullable);
      }
      if (c == List.class || c == Map.class) {
        throw new IllegalStateException(where + ": " + c.getSimpleName() + " needs type arguments");
      }
      if (c.isPrimitive() || c.isArray() || c.isInterface() || Modifier.isAbstract(c.getModifiers())
          || c.getName().startsWith("java.") || c.getName().startsWith("javax.")) {
        throw new IllegalStateException(where + ": unsupported config field type " + c.getName()
            + "; use String, int, long, double, boolean (or boxed), an enum, Path, List<..>,"
            + " Map<String, ..> or a config class");
      }
      return new Obj(c);
    }
    if (t instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
      Type[] args = p.getActualTypeArguments();
      if (raw == List.class) {
        return new ListOf(of(args[0], false, where));
      }
      if (raw == Map.class) {
        if (args[0] != String.class) {
          throw new IllegalStateException(where + ": map keys must be String, got " + args[0]);
        }
        return new MapOf(of(args[1], false, where));
      }
    }
    throw new IllegalStateException(where + ": unsupported config field type " + t.getTypeName()
        + "; collections must be declared as List<..> or Map<String, ..>");
  }
}
