package dev.retain.train;

import dev.retain.eval.RetentionBudget;
import java.util.Map;

/**
 * Live retention: the probes measured every few steps during training, so a run shows its
 * learning/forgetting curve in metrics.jsonl, and the retention budget that reacts to it.
 */
public interface LiveEval {
  /** Measure every this many optimizer steps. */
  int every();

  /** Scores of the model as it is now: general and domain accuracy (items of each role's suites pooled), and each suite's score. */
  Scores measure();

  /** The base model's general score, the budget's reference. */
  double baseGeneral();

  /** The base model's scores on the same items (the curves' step 0), or null when not measured. */
  default Scores base() {
    return null;
  }

  /** The retention budget, or null when none is set. */
  RetentionBudget budget();

  record Scores(double general, double domain, Map<String, Double> suites) {}
}
