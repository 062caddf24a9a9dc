package dev.retain.eval.report;

import java.util.Locale;

/** Number formatting shared by the Markdown and HTML reports; "n/a" for anything not finite. */
final class Fmt {
  static final String NA = "n/a";

  private Fmt() {}

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  /** 0.975 -> "97.5%". */
  static String pct(double fraction) {
    return Double.isFinite(fraction) ? f("%.1f%%", 100 * fraction) : NA;
  }

  /** "66.0% [61.2, 70.5]", or "66.0%" without an interval. */
  static String score(Score s) {
    if (!s.measured()) {
      return NA;
    }
    return s.hasInterval() ? f("%.1f%% [%.1f, %.1f]", 100 * s.value(), 100 * s.low(), 100 * s.high()) : pct(s.value());
  }

  /** A difference of fractions in points: 0.36 -> "+36.0 pts". */
  static String points(double delta) {
    return Double.isFinite(delta) ? f("%+.1f pts", 100 * delta) : NA;
  }

  static String signed(double v, int decimals) {
    return Double.isFinite(v) ? f("%+." + decimals + "f", v) : NA;
  }

  static String plain(double v, int decimals) {
    return Double.isFinite(v) ? f("%." + decimals + "f", v) : NA;
  }

  /** 294912 -> "294.9K"; 6800000 -> "6.8M". */
  static String count(long n) {
    double a = Math.abs((double) n);
    if (a < 1e3) {
      return Long.toString(n);
    }
    if (a < 1e6) {
      return f("%.1fK", n / 1e3);
    }
    if (a < 1e9) {
      return f("%.1fM", n / 1e6);
    }
    return f("%.2fB", n / 1e9);
  }

  /** A share of all parameters: "100%", "12.5%", "0.43%", "0.0012%". */
  static String share(double s) {
    if (!Double.isFinite(s)) {
      return NA;
    }
    double p = 100 * s;
    if (p >= 99.95) {
      return "100%";
    }
    if (p >= 10) {
      return f("%.1f%%", p);
    }
    if (p >= 0.01) {
      return f("%.2f%%", p);
    }
    return p == 0 ? "0%" : f("%.2g%%", p);
  }

  static String params(long trainable, long total) {
    if (total <= 0) {
      return trainable > 0 ? count(trainable) : NA;
    }
    return count(trainable) + " (" + share(trainable / (double) total) + ")";
  }

  static String mib(long bytes) {
    return bytes > 0 ? f("%,.0f MiB", bytes / (double) (1L << 20)) : NA;
  }

  static String rate(double perSecond) {
    return Double.isFinite(perSecond) && perSecond > 0 ? f("%,.0f", perSecond) : NA;
  }

  /** 45 -> "45s", 192 -> "3m 12s", 3725 -> "1h 02m". */
  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return NA;
    }
    long s = Math.round(seconds);
    if (s < 60) {
      return seconds < 10 ? f("%.1fs", seconds) : s + "s";
    }
    if (s < 3600) {
      return f("%dm %02ds", s / 60, s % 60);
    }
    return f("%dh %02dm", s / 3600, (s % 3600) / 60);
  }

  static String check(Derived.Check c) {
    return switch (c) {
      case PASS -> "yes";
      case FAIL -> "no";
      case NA -> NA;
    };
  }

  /** A suite's score: accuracy in percent, or cross-entropy in nats for text suites. */
  static String suite(SuiteScore s) {
    if (s == null) {
      return "";
    }
    return s.isText() ? (Double.isFinite(s.score()) ? f("CE %.3f", s.score()) : NA) : pct(s.score());
  }

  static String html(String s) {
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(ch);
      }
    }
    return b.toString();
  }

  /** Text safe inside a Markdown table cell: pipes escaped, line breaks flattened. */
  static String md(String s) {
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ");
  }
}
