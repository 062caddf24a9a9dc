package dev.retain.config;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Locale;

/** Spelling helpers shared by the binder and the docs: key names, suggestions, number text. */
final class Names {
  private Names() {}

  /** {@code replayRatio} -> {@code replay_ratio}, {@code useKVCache} -> {@code use_kv_cache}. */
  static String snake(String camel) {
    StringBuilder sb = new StringBuilder(camel.length() + 4);
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        char prev = camel.charAt(i - 1);
        boolean nextLower = i + 1 < camel.length() && Character.isLowerCase(camel.charAt(i + 1));
        if (Character.isLowerCase(prev) || Character.isDigit(prev)
            || (Character.isUpperCase(prev) && nextLower)) {
          sb.append('_');
        }
      }
      sb.append(Character.toLowerCase(c));
    }
    return sb.toString();
  }

  /** Folds the spellings users mix up: case, camelCase, '-' vs '_'. */
  static String fold(String s) {
    return snake(s).replace('-', '_').toLowerCase(Locale.ROOT);
  }

  /**
   * The candidate closest to {@code wrong}, or null when none is close enough to be a plausible
   * typo (edit distance at most 2, or a third of the length for long names).
   */
  static String suggest(String wrong, Collection<String> candidates) {
    String w = fold(wrong);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = levenshtein(w, fold(c));
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    if (best == null) {
      return null;
    }
    int allowed = Math.max(2, Math.min(w.length(), best.length()) / 3);
    return bestDistance <= allowed && bestDistance < Math.max(w.length(), best.length()) ? best : null;
  }

  static int levenshtein(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** A user's text in double quotes, with control characters escaped, shortened if very long. */
  static String quote(String s) {
    String t = s.length() > 80 ? s.substring(0, 77) + "..." : s;
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /** A number as a person writes it: 1, 0.5, 0.0003, 1E-7; used for bounds and values in messages. */
  static String number(double d) {
    if (Double.isNaN(d)) {
      return ".nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? ".inf" : "-.inf";
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    BigDecimal b = BigDecimal.valueOf(d).stripTrailingZeros();
    double a = Math.abs(d);
    return a >= 1e-6 && a < 1e15 ? b.toPlainString() : b.toString();
  }

  /** A double as YAML float text that reads back as the same double: 1.0, 0.0003, 1.0E-7. */
  static String yamlDouble(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return number(d);
    }
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      if (d == 0) {
        return 1 / d < 0 ? "-0.0" : "0.0";
      }
      return (long) d + ".0";
    }
    double a = Math.abs(d);
    if (a >= 1e-6 && a < 1e15) {
      return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    return Double.toString(d);
  }

  /** "in [0, 1)", "&gt; 0", "&lt;= 1": the interval of a {@link Range}, as used in messages and docs. */
  static String range(Range r) {
    boolean hasMin = r.min() != Double.NEGATIVE_INFINITY;
    boolean hasMax = r.max() != Double.POSITIVE_INFINITY;
    if (hasMin && hasMax) {
      return "in " + (r.minExclusive() ? "(" : "[") + number(r.min()) + ", " + number(r.max())
          + (r.maxExclusive() ? ")" : "]");
    }
    if (hasMin) {
      return (r.minExclusive() ? "> " : ">= ") + number(r.min());
    }
    if (hasMax) {
      return (r.maxExclusive() ? "< " : "<= ") + number(r.max());
    }
    return "a number (not NaN)";
  }

  static boolean inRange(double d, Range r) {
    if (Double.isNaN(d)) {
      return false;
    }
    boolean aboveMin = d > r.min() || (!r.minExclusive() && d == r.min());
    boolean belowMax = d < r.max() || (!r.maxExclusive() && d == r.max());
    return aboveMin && belowMax;
  }
}
