package dev.retain.eval.report;

import dev.retain.eval.ProbeRunner;
import dev.retain.eval.Probes;
import java.util.Locale;
import java.util.Objects;

/**
 * One probe suite's score. {@code role} is "general" or "domain"; {@code kind} is "exact", "choice"
 * or "text". For exact and choice suites {@code score} is an accuracy in [0, 1]; for text suites it
 * is the mean cross-entropy in nats per token (lower is better).
 */
public record SuiteScore(String name, String role, String kind, double score) {
  public SuiteScore {
    Objects.requireNonNull(name, "suite name");
    role = role == null ? "" : role;
    kind = kind == null ? "" : kind.toLowerCase(Locale.ROOT);
  }

  public static SuiteScore of(ProbeRunner.Result r) {
    return new SuiteScore(r.name(), r.role(), r.kind().name(), r.score());
  }

  public boolean isText() {
    return Probes.Kind.TEXT.name().equalsIgnoreCase(kind);
  }
}
