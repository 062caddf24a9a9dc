package dev.retain.peft.lora;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which linear layers LoRA adapts, with PEFT's semantics (peft 0.10, check_target_module_exists):
 *
 * <ul>
 *   <li>a set of names: a module matches when its full name equals a name or ends with "." + name
 *       ({@code q_proj} matches {@code model.layers.0.self_attn.q_proj});
 *   <li>a regular expression: the whole module name must match ({@code re.fullmatch});
 *   <li>{@code all-linear}: every linear projection of the decoder layers, never lm_head; saved as
 *       the set of their short names, as PEFT does.
 * </ul>
 *
 * Candidates are the seven projections of every decoder layer ({@code CausalLM.linears()});
 * lm_head cannot carry a LoRA here.
 */
public final class TargetModules {
  /** PEFT's shorthand for every linear layer except the output layer. */
  public static final String ALL_LINEAR = "all-linear";

  public enum Kind { NAMES, REGEX, ALL_LINEAR }

  private final Kind kind;
  private final Set<String> names;
  private final String regex;
  private final Pattern pattern;

  private TargetModules(Kind kind, Set<String> names, String regex) {
    this.kind = kind;
    this.names = names;
    this.regex = regex;
    Pattern p = null;
    if (regex != null) {
      try {
        p = Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("target_modules: invalid regular expression '" + regex + "': " + e.getDescription());
      }
    }
    this.pattern = p;
  }

  /** Module names or suffixes such as q_proj, v_proj (insertion order kept for saving). */
  public static TargetModules names(Collection<String> names) {
    Objects.requireNonNull(names, "names");
    Set<String> s = new LinkedHashSet<>();
    for (String n : names) {
      if (n == null || n.isBlank()) {
        throw new IllegalArgumentException("target_modules: empty module name in " + names);
      }
      s.add(n.trim());
    }
    if (s.isEmpty()) {
      throw new IllegalArgumentException("target_modules: empty list; name at least one module, e.g. [q_proj, v_proj]");
    }
    if (s.contains(ALL_LINEAR)) {
      if (s.size() == 1) {
        return allLinear();
      }
      throw new IllegalArgumentException("target_modules: '" + ALL_LINEAR + "' cannot be combined with other names " + s);
    }
    return new TargetModules(Kind.NAMES, java.util.Collections.unmodifiableSet(s), null);
  }

  public static TargetModules names(String... names) {
    return names(List.of(names));
  }

  /** A Java regular expression that must match the whole module name (PEFT: a string target_modules). */
  public static TargetModules regex(String regex) {
    Objects.requireNonNull(regex, "regex");
    if (regex.equals(ALL_LINEAR)) {
      return allLinear();
    }
    return new TargetModules(Kind.REGEX, null, regex);
  }

  public static TargetModules allLinear() {
    return new TargetModules(Kind.ALL_LINEAR, null, null);
  }

  /**
   * From a one-line spec as a config file or command line writes it: {@code all-linear},
   * {@code regex:PATTERN}, or names separated by commas ({@code q_proj,v_proj}).
   */
  public static TargetModules parseSpec(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("target_modules: empty; use e.g. q_proj,v_proj or all-linear or regex:PATTERN");
    }
    String s = spec.trim();
    if (s.equals(ALL_LINEAR)) {
      return allLinear();
    }
    if (s.startsWith("regex:")) {
      return regex(s.substring(6));
    }
    List<String> parts = new ArrayList<>();
    for (String p : s.split(",")) {
      if (!p.isBlank()) {
        parts.add(p.trim());
      }
    }
    return names(parts);
  }

  public Kind kind() {
    return kind;
  }

  /** The names (kind NAMES), else null. */
  public Set<String> nameSet() {
    return names;
  }

  /** The regex (kind REGEX), else null. */
  public String regex() {
    return regex;
  }

  /** Whether the linear layer {@code moduleName} (e.g. model.layers.0.self_attn.q_proj) is a target. */
  public boolean matches(String moduleName) {
    return switch (kind) {
      case ALL_LINEAR -> !moduleName.equals("lm_head");
      case REGEX -> pattern.matcher(moduleName).matches();
      case NAMES -> {
        for (String n : names) {
          if (matchesName(moduleName, n)) {
            yield true;
          }
        }
        yield false;
      }
    };
  }

  static boolean matchesName(String moduleName, String name) {
    return moduleName.equals(name) || moduleName.endsWith("." + name);
  }

  /** For kind NAMES: the names that match none of {@code moduleNames} (typos, other architectures). */
  public List<String> unmatchedNames(Collection<String> moduleNames) {
    List<String> out = new ArrayList<>();
    if (kind != Kind.NAMES) {
      return out;
    }
    for (String n : names) {
      if (moduleNames.stream().noneMatch(m -> matchesName(m, n))) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * What adapter_config.json records: the names (NAMES), the regex string (REGEX), or for
   * all-linear the short names of the given model's linear layers (PEFT resolves it the same way).
   */
  public Object toSaved(Collection<String> modelLinearNames) {
    return switch (kind) {
      case NAMES -> new ArrayList<>(names);
      case REGEX -> regex;
      case ALL_LINEAR -> {
        Set<String> s = new LinkedHashSet<>();
        for (String m : modelLinearNames) {
          s.add(m.substring(m.lastIndexOf('.') + 1));
        }
        yield new ArrayList<>(s);
      }
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case NAMES -> String.join(",", names);
      case REGEX -> "regex:" + regex;
      case ALL_LINEAR -> ALL_LINEAR;
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TargetModules t && t.kind == kind && Objects.equals(t.names, names) && Objects.equals(t.regex, regex);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, names, regex);
  }
}
