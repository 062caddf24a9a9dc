package dev.retain.train;

import dev.retain.model.CausalLM;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which parameters train, written as a small expression so that configs read like the papers:
 * {@code all}, {@code none}, {@code head} (lm_head, or the tied embeddings), {@code embeddings},
 * {@code norm} (the final norm), {@code top:N} (the last N decoder layers), {@code layers:A-B},
 * {@code adapters} (LoRA and bottleneck parameters only; alias {@code lora}),
 * {@code regex:PATTERN} (Java regex, found anywhere in the name). Terms joined by {@code +} are a
 * union, e.g. {@code top:2+head+norm}. Adapter parameters are selected only by {@code all} and
 * {@code adapters}: a base-weight selector never trains adapters by accident.
 */
public final class ParamSelector {
  private final String expression;
  private final List<Term> terms;

  private interface Term {
    boolean matches(String name, boolean adapter, int layers);
  }

  private ParamSelector(String expression, List<Term> terms) {
    this.expression = expression;
    this.terms = terms;
  }

  public static ParamSelector parse(String expression) {
    if (expression == null || expression.isBlank()) {
      throw new IllegalArgumentException("empty trainable-parameter selector; use e.g. all, top:2+head, adapters, regex:...");
    }
    List<Term> terms = new ArrayList<>();
    for (String raw : expression.split("\\+")) {
      String t = raw.trim();
      terms.add(term(t, expression));
    }
    return new ParamSelector(expression, terms);
  }

  private static Term term(String t, String whole) {
    switch (t) {
      case "all":
        return (n, a, l) -> true;
      case "none":
        return (n, a, l) -> false;
      case "head":
        return (n, a, l) -> !a && n.equals("lm_head.weight");
      case "embeddings":
        return (n, a, l) -> !a && n.equals("model.embed_tokens.weight");
      case "norm":
        return (n, a, l) -> !a && n.equals("model.norm.weight");
      case "adapters":
      case "lora":
        return (n, a, l) -> a;
      default:
        break;
    }
    if (t.startsWith("top:")) {
      int k = number(t.substring(4), t, whole);
      return (n, a, l) -> {
        int layer = CausalLM.layerIndex(n);
        return !a && layer >= 0 && layer >= l - k;
      };
    }
    if (t.startsWith("layers:")) {
      String[] ab = t.substring(7).split("-");
      if (ab.length != 2) {
        throw new IllegalArgumentException("selector '" + whole + "': '" + t + "' must look like layers:A-B");
      }
      int lo = number(ab[0], t, whole);
      int hi = number(ab[1], t, whole);
      return (n, a, l) -> {
        int layer = CausalLM.layerIndex(n);
        return !a && layer >= lo && layer <= hi;
      };
    }
    if (t.startsWith("regex:")) {
      try {
        Pattern p = Pattern.compile(t.substring(6));
        return (n, a, l) -> !a && p.matcher(n).find();
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("selector '" + whole + "': invalid regex: " + e.getDescription());
      }
    }
    throw new IllegalArgumentException("selector '" + whole + "': unknown term '" + t
        + "'; use all, none, head, embeddings, norm, top:N, layers:A-B, adapters, regex:PATTERN (joined by +)");
  }

  private static int number(String s, String t, String whole) {
    try {
      int v = Integer.parseInt(s.trim());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("selector '" + whole + "': '" + t + "' needs a non-negative integer");
    }
  }

  /**
   * The selected names among {@code names}; {@code adapterNames} says which of them belong to
   * adapters, {@code numLayers} resolves top:N. With a tied head, "head" selects the embeddings.
   */
  public Set<String> select(Iterable<String> names, Set<String> adapterNames, int numLayers, boolean tiedHead) {
    Set<String> out = new LinkedHashSet<>();
    for (String n : names) {
      boolean a = adapterNames.contains(n);
      String probe = tiedHead && n.equals("model.embed_tokens.weight") ? "lm_head.weight" : null;
      for (Term t : terms) {
        if (t.matches(n, a, numLayers) || (probe != null && t.matches(probe, a, numLayers))) {
          out.add(n);
          break;
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return expression;
  }
}
