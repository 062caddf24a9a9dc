package dev.retain.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Represent;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Config values to YAML text, in the spelling the binder reads back: snake_case keys in field
 * order, enums in lower case, paths as strings, doubles in plain decimal where readable.
 */
final class YamlWriter {
  private YamlWriter() {}

  /** The config tree as plain maps, lists, strings, numbers and booleans. */
  static Object plain(VType t, Object v) {
    if (v == null) {
      return null;
    }
    if (t instanceof VType.Scalar s) {
      if (s.kind() == VType.Kind.ENUM) {
        return ((Enum<?>) v).name().toLowerCase(Locale.ROOT);
      }
      if (s.kind() == VType.Kind.PATH) {
        return ((Path) v).toString();
      }
      return v;
    }
    if (t instanceof VType.Obj o) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Prop p : Schema.of(o.type()).props) {
        Object value = p.get(v);
        if (value == null && p.type instanceof VType.Obj) {
          continue; // an absent section stays off; "section: null" would read back as the defaults
        }
        out.put(p.key, plain(p.type, value));
      }
      return out;
    }
    if (t instanceof VType.ListOf l) {
      List<Object> out = new ArrayList<>();
      for (Object e : (List<?>) v) {
        out.add(plain(l.element(), e));
      }
      return out;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
      out.put(String.valueOf(e.getKey()), plain(((VType.MapOf) t).value(), e.getValue()));
    }
    return out;
  }

  /** Block-style YAML document, e.g. a run's resolved config. */
  static String block(Object tree) {
    DumperOptions o = options();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    o.setIndicatorIndent(2);
    o.setIndentWithIndicator(true);
    return new Yaml(new Repr(o), o).dump(tree);
  }

  /** One-line flow-style YAML, e.g. {@code [a, b]}, for a value in a table cell. */
  static String flow(Object tree) {
    DumperOptions o = options();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.FLOW);
    String s = new Yaml(new Repr(o), o).dump(tree).strip();
    return s.endsWith("\n...") ? s.substring(0, s.length() - 4).strip() : s;
  }

  private static DumperOptions options() {
    DumperOptions o = new DumperOptions();
    o.setIndent(2);
    o.setWidth(Integer.MAX_VALUE);
    o.setSplitLines(false);
    o.setAllowUnicode(true);
    o.setLineBreak(DumperOptions.LineBreak.UNIX);
    return o;
  }

  /** Writes doubles as 0.0003 rather than 3.0E-4; the binder reads both. */
  private static final class Repr extends Representer {
    Repr(DumperOptions o) {
      super(o);
      Represent d = data -> representScalar(Tag.FLOAT, Names.yamlDouble((Double) data));
      this.representers.put(Double.class, d);
    }
  }
}
