package dev.retain.train;

import dev.retain.eval.ProbeRunner;
import dev.retain.eval.Probes;
import dev.retain.eval.RetentionBudget;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link LiveEval} over probe suites: the general score is the accuracy over all items of the general
 * exact-match and multiple-choice suites together (pooled, as the comparison report computes it), the
 * domain score the same over domain suites (text suites are logged but not pooled: they are
 * cross-entropies, lower is better).
 */
public final class LiveProbes implements LiveEval {
  private final ProbeRunner runner;
  private final List<Probes.Suite> suites;
  private final int every;
  private final int limit;
  private final Scores base;
  private final RetentionBudget budget;

  /** {@code base}: the same probes measured on the base model (null while measuring it). */
  public LiveProbes(ProbeRunner runner, List<Probes.Suite> suites, int every, int limit, Scores base,
                    RetentionBudget budget) {
    this.runner = runner;
    this.suites = suites;
    this.every = every;
    this.limit = limit;
    this.base = base;
    this.budget = budget;
  }

  /** Accuracy over every item of the suites of a role ("general" or "domain"), NaN when there are none. */
  public static double pooled(List<ProbeRunner.Result> results, String role) {
    long correct = 0;
    long n = 0;
    for (ProbeRunner.Result r : results) {
      if (r.kind() != Probes.Kind.TEXT && role.equals(r.role())) {
        correct += r.correct();
        n += r.n();
      }
    }
    return n == 0 ? Double.NaN : (double) correct / n;
  }

  @Override
  public int every() {
    return every;
  }

  @Override
  public Scores measure() {
    List<ProbeRunner.Result> results = runner.run(suites, limit);
    Map<String, Double> bySuite = new LinkedHashMap<>();
    results.forEach(r -> bySuite.put(r.name(), r.score()));
    return new Scores(pooled(results, "general"), pooled(results, "domain"), bySuite);
  }

  @Override
  public double baseGeneral() {
    return base == null ? Double.NaN : base.general();
  }

  @Override
  public Scores base() {
    return base;
  }

  @Override
  public RetentionBudget budget() {
    return budget;
  }
}
