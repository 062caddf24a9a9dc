package dev.retain.config;

import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * One binding run: YAML nodes and overrides into one config tree, collecting every problem with
 * its source and line. Not thread-safe; {@link ConfigBinder} makes a fresh one per call.
 */
final class Binding implements ConfigErrors.Sink {
  private static final Object FAIL = new Object();
  private static final Resolver RESOLVER = new Resolver();
  private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9][0-9_]*");
  private static final Pattern DECIMAL =
      Pattern.compile("[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?");
  /** Messages that continue "key.path ..." as a sentence; others are joined with a colon. */
  private static final Pattern PREDICATE =
      Pattern.compile("(must|is|are|should|cannot|can't|needs|has|have|was|does|may)\\b");
  private static final Pattern SEGMENT = Pattern.compile("([^.\\[\\]]+)((?:\\[[0-9]+\\])*)");

  /** Where a key path was last set: its source, report rank, line and the text written there. */
  private record Loc(String origin, int rank, int line, String raw) {}

  private record Entry(int rank, int line, int seq, ConfigProblem problem) {}

  /** A place a value can be read from and written to while following an override's key path. */
  private interface Slot {
    VType type();

    Object get();

    void set(Object value);

    default void markPresent() {}

    /** Whether the value may be absent (null) by default, as an optional section is. */
    default boolean optional() {
      return false;
    }
  }

  private final String fileLabel;
  private final Map<Object, Set<Prop>> present;
  private final Map<String, Loc> locs = new HashMap<>();
  private final List<Entry> problems = new ArrayList<>();
  private final Set<String> reported = new HashSet<>();
  private final Set<String> failed = new HashSet<>();
  private String origin;
  private int rank;
  private boolean useLines;
  private Path baseDir;

  /**
   * @param fileLabel the YAML file as the user named it, or null when there is no file
   * @param trackPresence whether {@link Required} on primitives means "written by the user"
   */
  Binding(String fileLabel, Path baseDir, boolean trackPresence) {
    this.fileLabel = fileLabel;
    this.origin = fileLabel;
    this.baseDir = baseDir;
    this.useLines = fileLabel != null;
    this.present = trackPresence ? new IdentityHashMap<>() : null;
  }

  static LoaderOptions loaderOptions() {
    LoaderOptions o = new LoaderOptions();
    o.setProcessComments(false);
    o.setMaxAliasesForCollections(100);
    o.setNestingDepthLimit(64);
    o.setCodePointLimit(8 * 1024 * 1024);
    return o;
  }

  /** Parses YAML text into a node tree; syntax errors are final (nothing can be bound). */
  Node compose(String text) {
    try {
      return new Yaml(loaderOptions()).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      StringBuilder msg = new StringBuilder("YAML syntax error: ").append(e.getProblem());
      if (e.getProblemMark() != null) {
        msg.append(" (column ").append(e.getProblemMark().getColumn() + 1).append(')');
      }
      if (e.getContext() != null && e.getContextMark() != null) {
        msg.append(", ").append(e.getContext()).append(" that starts on line ")
            .append(e.getContextMark().getLine() + 1);
      }
      throw single(line, "", msg.toString());
    } catch (YAMLException e) {
      throw single(0, "", "YAML error: " + e.getMessage());
    }
  }

  private ConfigException single(int line, String keyPath, String message) {
    return new ConfigException(List.of(new ConfigProblem(origin, line, keyPath, message)));
  }

  // ---------------------------------------------------------------- binding YAML

  /** Binds a whole document; an empty or non-mapping document is final. */
  void bindDocument(Object root, Node node) {
    Schema s = Schema.of(root.getClass());
    if (node == null || isNull(node)) {
      throw single(0, "", "the file is empty; expected a mapping of keys such as "
          + String.join(", ", s.keys()));
    }
    if (!(node instanceof MappingNode m)) {
      throw single(line(node), "", "the top level must be a mapping of keys to values (key: value), got "
          + describe(node));
    }
    bindObject(root, s, m, "");
  }

  private void bindObject(Object target, Schema s, MappingNode m, String path) {
    for (NodeTuple t : flatten(m, path)) {
      ScalarNode k = (ScalarNode) t.getKeyNode();
      String name = k.getValue();
      String p = ConfigErrors.join(path, name);
      Prop prop = s.byKey.get(name);
      if (prop == null) {
        unknownKey(line(k), p, name, s);
        continue;
      }
      int line = line(k);
      locs.put(p, new Loc(origin, rank, line, raw(t.getValueNode())));
      Object v = convert(prop.type, t.getValueNode(), prop.get(target), p, line);
      if (v != FAIL) {
        prop.set(target, v);
      } else {
        failed.add(p);
      }
      markPresent(target, prop);
    }
  }

  /**
   * The entries of a mapping with YAML merge keys ({@code <<: *defaults}) applied: explicit keys
   * win over merged ones, earlier merge sources over later ones. Duplicate explicit keys and
   * non-scalar keys are reported and dropped.
   */
  private List<NodeTuple> flatten(MappingNode m, String path) {
    List<NodeTuple> out = new ArrayList<>();
    Map<String, Node> seen = new HashMap<>();
    List<Node> merges = new ArrayList<>();
    for (NodeTuple t : m.getValue()) {
      Node k = t.getKeyNode();
      if (Tag.MERGE.equals(k.getTag())) {
        merges.add(t.getValueNode());
        continue;
      }
      if (!(k instanceof ScalarNode ks)) {
        error(line(k), path, "keys must be plain names, got " + describe(k)
            + (path.isEmpty() ? "" : " under '" + path + "'"));
        continue;
      }
      String name = ks.getValue();
      Node first = seen.putIfAbsent(name, k);
      if (first != null) {
        String p = ConfigErrors.join(path, name);
        error(line(k), p, "duplicate key '" + p + "'"
            + (useLines ? " (first written on line " + line(first) + ")" : "") + "; keep only one");
        continue;
      }
      out.add(t);
    }
    for (Node src : merges) {
      List<Node> sources = new ArrayList<>();
      if (src instanceof MappingNode) {
        sources.add(src);
      } else if (src instanceof SequenceNode seq && seq.getValue().stream().allMatch(n -> n instanceof MappingNode)) {
        sources.addAll(seq.getValue());
      } else {
        error(line(src), path, "'<<' (merge) must be followed by an alias to a mapping, got " + describe(src));
        continue;
      }
      for (Node s : sources) {
        for (NodeTuple t : flatten((MappingNode) s, path)) {
          String name = ((ScalarNode) t.getKeyNode()).getValue();
          if (seen.putIfAbsent(name, t.getKeyNode()) == null) {
            out.add(t);
          }
        }
      }
    }
    return out;
  }

  private void unknownKey(int line, String p, String name, Schema s) {
    String suggestion = Names.suggest(name, s.keys());
    String known = s.keys().isEmpty() ? " There are no keys here." : " Known keys here: " + String.join(", ", s.keys());
    error(line, p, "unknown key '" + p + "'" + (suggestion != null ? "; did you mean '" + suggestion + "'?" : ".")
        + known);
  }

  /** Converts a node to a value of type {@code t}, or reports why not and returns FAIL. */
  private Object convert(VType t, Node n, Object current, String p, int line) {
    if (t instanceof VType.Scalar s) {
      return scalar(s, n, p, line);
    }
    if (t instanceof VType.Obj o) {
      Schema schema = Schema.of(o.type());
      if (isNull(n)) {
        return current != null ? current : schema.newInstance();
      }
      if (!(n instanceof MappingNode m)) {
        return mismatch(t, n, p, line);
      }
      Object target = current != null ? current : schema.newInstance();
      bindObject(target, schema, m, p);
      return target;
    }
    if (t instanceof VType.ListOf l) {
      if (isNull(n)) {
        return new ArrayList<>();
      }
      if (!(n instanceof SequenceNode seq)) {
        return mismatch(t, n, p, line);
      }
      List<Object> out = new ArrayList<>();
      boolean ok = true;
      List<Node> items = seq.getValue();
      for (int i = 0; i < items.size(); i++) {
        Node e = items.get(i);
        String ep = p + "[" + i + "]";
        int el = useLines ? line(e) : line;
        locs.put(ep, new Loc(origin, rank, el, raw(e)));
        Object v = convert(l.element(), e, null, ep, el);
        if (v == FAIL) {
          ok = false;
        } else {
          out.add(v);
        }
      }
      return ok ? out : FAIL;
    }
    VType.MapOf mt = (VType.MapOf) t;
    if (isNull(n)) {
      return new LinkedHashMap<>();
    }
    if (!(n instanceof MappingNode m)) {
      return mismatch(t, n, p, line);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    boolean ok = true;
    for (NodeTuple e : flatten(m, p)) {
      String name = ((ScalarNode) e.getKeyNode()).getValue();
      String ep = ConfigErrors.join(p, name);
      int el = useLines ? line(e.getKeyNode()) : line;
      locs.put(ep, new Loc(origin, rank, el, raw(e.getValueNode())));
      Object v = convert(mt.value(), e.getValueNode(), null, ep, el);
      if (v == FAIL) {
        ok = false;
      } else {
        out.put(name, v);
      }
    }
    return ok ? out : FAIL;
  }

  private Object scalar(VType.Scalar s, Node n, String p, int line) {
    if (!(n instanceof ScalarNode sn)) {
      return mismatch(s, n, p, line);
    }
    if (isNull(sn)) {
      if (s.nullable()) {
        return null;
      }
      return mismatch(s, n, p, line);
    }
    String text = sn.getValue();
    String trimmed = text.trim();
    switch (s.kind()) {
      case STRING:
        return text;
      case INT:
      case LONG: {
        if (!INTEGER.matcher(trimmed).matches()) {
          return mismatch(s, n, p, line);
        }
        BigInteger b = new BigInteger(trimmed.replace("_", "").replace("+", ""));
        boolean isInt = s.kind() == VType.Kind.INT;
        BigInteger min = BigInteger.valueOf(isInt ? Integer.MIN_VALUE : Long.MIN_VALUE);
        BigInteger max = BigInteger.valueOf(isInt ? Integer.MAX_VALUE : Long.MAX_VALUE);
        if (b.compareTo(min) < 0 || b.compareTo(max) > 0) {
          error(line, p, p + " must be an integer between " + min + " and " + max + ", got " + Names.quote(text));
          return FAIL;
        }
        return isInt ? (Object) b.intValue() : (Object) b.longValue();
      }
      case DOUBLE: {
        Double d = parseDouble(trimmed);
        return d != null ? d : mismatch(s, n, p, line);
      }
      case BOOLEAN:
        if (trimmed.equalsIgnoreCase("true")) {
          return Boolean.TRUE;
        }
        if (trimmed.equalsIgnoreCase("false")) {
          return Boolean.FALSE;
        }
        return mismatch(s, n, p, line);
      case ENUM: {
        String want = trimmed.toLowerCase(Locale.ROOT).replace('-', '_');
        for (Object c : s.enumType().getEnumConstants()) {
          if (((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('-', '_').equals(want)) {
            return c;
          }
        }
        List<String> names = VType.enumNames(s.enumType());
        String suggestion = Names.suggest(trimmed, names);
        error(line, p, p + " must be " + s.expected() + ", got " + Names.quote(text)
            + (suggestion != null ? "; did you mean '" + suggestion + "'?" : ""));
        return FAIL;
      }
      case PATH:
      default:
        return path(trimmed, p, line);
    }
  }

  private Object path(String text, String p, int line) {
    if (text.isEmpty()) {
      error(line, p, p + " must be a path, got an empty string");
      return FAIL;
    }
    try {
      String expanded = text;
      if (text.equals("~") || text.startsWith("~/")) {
        expanded = System.getProperty("user.home") + text.substring(1);
      }
      return baseDir.resolve(Path.of(expanded)).normalize();
    } catch (InvalidPathException e) {
      error(line, p, p + " must be a path, got " + Names.quote(text) + " (" + e.getReason() + ")");
      return FAIL;
    }
  }

  /** YAML 1.1 numbers: 1, -2.5, 3e-4, 1_000, .5, .inf, -.inf, .nan; null when not a number. */
  static Double parseDouble(String t) {
    switch (t) {
      case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
        return Double.POSITIVE_INFINITY;
      case "-.inf", "-.Inf", "-.INF":
        return Double.NEGATIVE_INFINITY;
      case ".nan", ".NaN", ".NAN":
        return Double.NaN;
      default:
        break;
    }
    if (!DECIMAL.matcher(t).matches()) {
      return null;
    }
    double d = Double.parseDouble(t.replace("_", ""));
    return Double.isInfinite(d) ? null : d;
  }

  private Object mismatch(VType t, Node n, String p, int line) {
    error(line, p, p + " must be " + t.expected() + ", got " + describe(n));
    return FAIL;
  }

  private static String describe(Node n) {
    if (n instanceof ScalarNode s) {
      return isNull(s) ? "nothing (null)" : Names.quote(s.getValue());
    }
    return n instanceof SequenceNode ? "a list" : "a mapping";
  }

  private static boolean isNull(Node n) {
    return n instanceof ScalarNode && Tag.NULL.equals(n.getTag());
  }

  private static String raw(Node n) {
    return n instanceof ScalarNode s && !isNull(s) ? s.getValue() : null;
  }

  private int line(Node n) {
    return useLines && n.getStartMark() != null ? n.getStartMark().getLine() + 1 : 0;
  }

  private void markPresent(Object owner, Prop prop) {
    if (present != null) {
      present.computeIfAbsent(owner, o -> new HashSet<>()).add(prop);
    }
  }

  // ---------------------------------------------------------------- overrides

  /** Applies one {@code key.path=value} override; {@code index} orders its problems after the file's. */
  void applyOverride(Object root, String text, int index) {
    origin = "command-line override '" + text + "'";
    rank = index + 1;
    useLines = false;
    baseDir = Path.of("").toAbsolutePath();
    int eq = text.indexOf('=');
    String keyPath = eq < 0 ? "" : text.substring(0, eq).trim();
    if (keyPath.isEmpty()) {
      error(0, "", "expected key.path=value, e.g. training.lr=1e-4");
      return;
    }
    String value = text.substring(eq + 1).trim();
    List<Object> segments = parsePath(keyPath);
    if (segments == null) {
      error(0, keyPath, "'" + keyPath + "' is not a key path; write names separated by dots,"
          + " with [i] for list elements, e.g. stages[0].lr");
      return;
    }
    Slot slot = rootSlot(root);
    String p = "";
    for (Object seg : segments) {
      slot = step(slot, seg, p);
      if (slot == null) {
        return;
      }
      p = seg instanceof Integer i ? p + "[" + i + "]" : ConfigErrors.join(p, (String) seg);
    }
    String full = p;
    if (!(slot.type() instanceof VType.Obj)) {
      locs.keySet().removeIf(k -> k.startsWith(full + ".") || k.startsWith(full + "["));
    }
    locs.put(full, new Loc(origin, rank, 0, value));
    slot.markPresent();
    Node node = overrideNode(slot.type(), value, full);
    if (node == null) {
      failed.add(full);
      return;
    }
    if (slot.type() instanceof VType.Obj o && isNull(node)) {
      // In a file "ewc:" is the section with its defaults; on the command line "retention.ewc=" asks
      // for it to go away (an empty value clears an optional value). A section that always exists
      // goes back to its defaults instead.
      slot.set(slot.optional() ? null : Schema.of(o.type()).newInstance());
      locs.keySet().removeIf(k -> k.startsWith(full + ".") || k.startsWith(full + "["));
      return;
    }
    Object v = convert(slot.type(), node, slot.get(), full, 0);
    if (v != FAIL) {
      slot.set(v);
    } else {
      failed.add(full);
    }
  }

  private static List<Object> parsePath(String keyPath) {
    List<Object> out = new ArrayList<>();
    for (String part : keyPath.split("\\.", -1)) {
      Matcher m = SEGMENT.matcher(part);
      if (!m.matches()) {
        return null;
      }
      out.add(m.group(1).trim());
      Matcher idx = Pattern.compile("\\[([0-9]+)\\]").matcher(m.group(2));
      while (idx.find()) {
        try {
          out.add(Integer.parseInt(idx.group(1)));
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
    return out;
  }

  private Slot rootSlot(Object root) {
    VType t = new VType.Obj(root.getClass());
    return new Slot() {
      @Override
      public VType type() {
        return t;
      }

      @Override
      public Object get() {
        return root;
      }

      @Override
      public void set(Object value) {
        throw new IllegalStateException("the root cannot be replaced");
      }
    };
  }

  /** Follows one segment of an override's key path, or reports why it cannot and returns null. */
  private Slot step(Slot slot, Object seg, String p) {
    VType t = slot.type();
    if (seg instanceof Integer i) {
      if (!(t instanceof VType.ListOf lt)) {
        error(0, p, p + " is " + t.expected() + ", not a list; '[" + i + "]' does not apply");
        return null;
      }
      List<?> current = (List<?>) slot.get();
      List<Object> list = current == null ? new ArrayList<>() : new ArrayList<>(current);
      slot.set(list);
      if (i >= list.size()) {
        error(0, p + "[" + i + "]", p + " has " + list.size() + " element" + (list.size() == 1 ? "" : "s")
            + "; index " + i + " is out of range (set the whole list instead, e.g. " + p + "=[...])");
        return null;
      }
      return new Slot() {
        @Override
        public VType type() {
          return lt.element();
        }

        @Override
        public Object get() {
          return list.get(i);
        }

        @Override
        public void set(Object value) {
          list.set(i, value);
        }
      };
    }
    String name = (String) seg;
    if (t instanceof VType.Obj o) {
      Schema schema = Schema.of(o.type());
      Object owner = slot.get();
      if (owner == null) {
        owner = schema.newInstance();
        slot.set(owner);
        locs.put(p, new Loc(origin, rank, 0, null));
      }
      Prop prop = schema.byKey.get(name);
      if (prop == null) {
        unknownKey(0, ConfigErrors.join(p, name), name, schema);
        return null;
      }
      Object target = owner;
      return new Slot() {
        @Override
        public VType type() {
          return prop.type;
        }

        @Override
        public Object get() {
          return prop.get(target);
        }

        @Override
        public void set(Object value) {
          prop.set(target, value);
        }

        @Override
        public void markPresent() {
          Binding.this.markPresent(target, prop);
        }

        @Override
        public boolean optional() {
          return prop.get(schema.newInstance()) == null;
        }
      };
    }
    if (t instanceof VType.MapOf mt) {
      Map<?, ?> current = (Map<?, ?>) slot.get();
      Map<String, Object> map = new LinkedHashMap<>();
      if (current != null) {
        current.forEach((k, v) -> map.put(String.valueOf(k), v));
      }
      slot.set(map);
      return new Slot() {
        @Override
        public VType type() {
          return mt.value();
        }

        @Override
        public Object get() {
          return map.get(name);
        }

        @Override
        public void set(Object value) {
          map.put(name, value);
        }
      };
    }
    error(0, p, p + " is " + t.expected() + " and has no key '" + name + "'");
    return null;
  }

  /**
   * The node an override's text stands for. Scalars are taken literally (the shell already removed
   * any quotes); lists of scalars may be written {@code a,b,c} or as YAML flow {@code [a, b]};
   * sections and maps are YAML flow, e.g. {@code {weight: 2}}.
   */
  private Node overrideNode(VType t, String value, String p) {
    if (t instanceof VType.Scalar) {
      return scalarNode(value);
    }
    if (t instanceof VType.ListOf l && l.element() instanceof VType.Scalar && !value.startsWith("[")
        && !value.equals("null") && !value.equals("~")) {
      List<Node> items = new ArrayList<>();
      if (!value.isEmpty()) {
        for (String part : value.split(",", -1)) {
          items.add(scalarNode(part.trim()));
        }
      }
      return new SequenceNode(Tag.SEQ, items, DumperOptions.FlowStyle.FLOW);
    }
    try {
      Node n = new Yaml(loaderOptions()).compose(new StringReader(value));
      return n != null ? n : scalarNode("");
    } catch (YAMLException e) {
      String why = e instanceof MarkedYAMLException m ? m.getProblem() : e.getMessage();
      error(0, p, p + ": the value is not valid YAML (" + why + "); write " + t.expected()
          + (t instanceof VType.Obj || t instanceof VType.MapOf ? " in flow style, e.g. {key: value}" : ""));
      return null;
    }
  }

  private static ScalarNode scalarNode(String v) {
    return new ScalarNode(RESOLVER.resolve(NodeId.scalar, v, true), v, null, null,
        DumperOptions.ScalarStyle.PLAIN);
  }

  // ---------------------------------------------------------------- checks after binding

  /**
   * Checks every value of the tree: required keys, ranges, paths that must exist. With {@code
   * absolutize}, relative paths (defaults) are made absolute against the working directory so that
   * a loaded config never depends on where it is used from.
   */
  void check(Object root, boolean absolutize) {
    checkObject(root, Schema.of(root.getClass()), "", absolutize);
  }

  private void checkObject(Object obj, Schema s, String path, boolean absolutize) {
    for (Prop p : s.props) {
      String cp = ConfigErrors.join(path, p.key);
      Object v = p.get(obj);
      if (absolutize && p.type.leaf() instanceof VType.Scalar sc && sc.kind() == VType.Kind.PATH) {
        Object nv = absolute(p.type, v);
        if (nv != v) {
          p.set(obj, nv);
          v = nv;
        }
      }
      if (p.required) {
        boolean written = present == null || present.getOrDefault(obj, Set.of()).contains(p);
        if (!written) {
          missing(cp, p);
          continue;
        }
        if (v == null) {
          if (failed.contains(cp)) {
            continue;
          }
          errorAt(cp, cp + " is required but has no value; write e.g. '" + p.key + ": " + placeholder(p) + "'");
          continue;
        }
      }
      checkValue(p.type, v, cp, p, absolutize);
    }
  }

  private void checkValue(VType t, Object v, String path, Prop p, boolean absolutize) {
    if (v == null) {
      return;
    }
    if (t instanceof VType.Scalar s) {
      if (p.range != null && s.numeric()) {
        double d = ((Number) v).doubleValue();
        if (!Names.inRange(d, p.range)) {
          errorAt(path, path + " must be " + Names.range(p.range) + ", got " + written(path, Names.number(d)));
        }
      }
      if (p.mustExist && s.kind() == VType.Kind.PATH && !Files.exists((Path) v)) {
        Loc loc = locs.get(path);
        String as = loc != null && loc.raw() != null && !loc.raw().equals(v.toString())
            ? " (written as " + Names.quote(loc.raw()) + ")" : "";
        errorAt(path, path + " must be an existing file or folder, but " + v + " does not exist" + as);
      }
    } else if (t instanceof VType.Obj o) {
      checkObject(v, Schema.of(o.type()), path, absolutize);
    } else if (t instanceof VType.ListOf l) {
      List<?> list = (List<?>) v;
      for (int i = 0; i < list.size(); i++) {
        checkValue(l.element(), list.get(i), path + "[" + i + "]", p, absolutize);
      }
    } else if (t instanceof VType.MapOf m) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        checkValue(m.value(), e.getValue(), ConfigErrors.join(path, String.valueOf(e.getKey())), p, absolutize);
      }
    }
  }

  /** The value as the user wrote it when known, else as a number (marked when it is a default). */
  private String written(String path, String formatted) {
    Loc loc = locs.get(path);
    if (loc != null && loc.raw() != null) {
      return loc.raw();
    }
    return fileLabel != null && loc == null ? formatted + " (the default)" : formatted;
  }

  private static Object absolute(VType t, Object v) {
    if (v == null) {
      return null;
    }
    if (t instanceof VType.Scalar) {
      Path p = (Path) v;
      return p.isAbsolute() ? p : p.toAbsolutePath().normalize();
    }
    if (t instanceof VType.ListOf l) {
      List<?> list = (List<?>) v;
      List<Object> out = new ArrayList<>(list.size());
      boolean changed = false;
      for (Object e : list) {
        Object ne = absolute(l.element(), e);
        changed |= ne != e;
        out.add(ne);
      }
      return changed ? out : v;
    }
    Map<?, ?> map = (Map<?, ?>) v;
    Map<Object, Object> out = new LinkedHashMap<>();
    boolean changed = false;
    for (Map.Entry<?, ?> e : map.entrySet()) {
      Object ne = absolute(((VType.MapOf) t).value(), e.getValue());
      changed |= ne != e.getValue();
      out.put(e.getKey(), ne);
    }
    return changed ? out : v;
  }

  private void missing(String cp, Prop p) {
    int dot = parentEnd(cp);
    String parent = dot < 0 ? "" : cp.substring(0, dot);
    errorAt(cp, "missing required key '" + cp + "'" + (p.doc.isEmpty() ? "" : " (" + p.doc + ")")
        + "; add '" + p.key + ": " + placeholder(p) + "' "
        + (parent.isEmpty() ? "at the top level" : "under '" + parent + "'"));
  }

  private static String placeholder(Prop p) {
    return p.example != null ? p.example : "<" + p.type.docName() + ">";
  }

  // ---------------------------------------------------------------- Validatable hooks

  /** Calls {@link Validatable#validate} on every config object of the tree, parents first. */
  void runHooks(Object root) {
    hooks(new VType.Obj(root.getClass()), root, "");
  }

  private void hooks(VType t, Object v, String path) {
    if (v == null) {
      return;
    }
    if (t instanceof VType.Obj o) {
      if (v instanceof Validatable val) {
        val.validate(new ConfigErrors(this, path));
      }
      for (Prop p : Schema.of(o.type()).props) {
        hooks(p.type, p.get(v), ConfigErrors.join(path, p.key));
      }
    } else if (t instanceof VType.ListOf l && !(l.leaf() instanceof VType.Scalar)) {
      List<?> list = (List<?>) v;
      for (int i = 0; i < list.size(); i++) {
        hooks(l.element(), list.get(i), path + "[" + i + "]");
      }
    } else if (t instanceof VType.MapOf m && !(m.leaf() instanceof VType.Scalar)) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        hooks(m.value(), e.getValue(), ConfigErrors.join(path, String.valueOf(e.getKey())));
      }
    }
  }

  @Override
  public void add(String keyPath, String message) {
    if (keyPath.isEmpty()) {
      errorAt(keyPath, message);
    } else {
      errorAt(keyPath, keyPath + (PREDICATE.matcher(message).lookingAt() ? " " : ": ") + message);
    }
  }

  @Override
  public boolean isEmpty() {
    return problems.isEmpty();
  }

  // ---------------------------------------------------------------- reporting

  /** Reports a problem found while reading the current source (file or override). */
  private void error(int line, String keyPath, String message) {
    record(origin, rank, line, keyPath, message);
  }

  /** Reports a problem about a key path after binding, at the place it (or its section) was written. */
  private void errorAt(String keyPath, String message) {
    String p = keyPath;
    while (true) {
      Loc loc = locs.get(p);
      if (loc != null) {
        record(loc.origin(), loc.rank(), loc.line(), keyPath, message);
        return;
      }
      int end = parentEnd(p);
      if (end < 0) {
        break;
      }
      p = p.substring(0, end);
    }
    record(fileLabel, 0, 0, keyPath, message);
  }

  private static int parentEnd(String path) {
    return Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  }

  private void record(String source, int rank, int line, String keyPath, String message) {
    ConfigProblem p = new ConfigProblem(source, line, keyPath, message);
    if (reported.add(p.toString())) {
      problems.add(new Entry(rank, line, problems.size(), p));
    }
  }

  boolean hasProblems() {
    return !problems.isEmpty();
  }

  /** Throws all problems, by source (file first, then overrides in order) and line. */
  void throwIfProblems() {
    if (problems.isEmpty()) {
      return;
    }
    List<Entry> sorted = new ArrayList<>(problems);
    sorted.sort(Comparator.comparingInt(Entry::rank)
        .thenComparingInt(e -> e.line() == 0 ? Integer.MAX_VALUE : e.line())
        .thenComparingInt(Entry::seq));
    List<ConfigProblem> out = new ArrayList<>();
    for (Entry e : sorted) {
      out.add(e.problem());
    }
    throw new ConfigException(Collections.unmodifiableList(out));
  }

  /** Verifies every config class reachable from {@code root} up front, so that bugs surface early. */
  static void verifyTree(Class<?> root) {
    verify(root, new LinkedHashSet<>());
  }

  private static void verify(Class<?> type, Set<Class<?>> seen) {
    if (!seen.add(type)) {
      return;
    }
    for (Prop p : Schema.of(type).props) {
      if (p.type.leaf() instanceof VType.Obj o) {
        verify(o.type(), seen);
      }
    }
  }
}
