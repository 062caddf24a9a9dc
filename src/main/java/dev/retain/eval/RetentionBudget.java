package dev.retain.eval;

/**
 * The retention budget: keep the general score at or above {@code budget} x the base model's
 * (e.g. 0.97). Fed the live general score every few steps, it answers what the run should do, by
 * this documented policy:
 *
 * <ol>
 *   <li>At or above the budget: continue; the step is remembered as the best checkpoint that met
 *       the budget when its score is the highest seen so far.
 *   <li>Below the budget: escalate one level (up to the level where the replay boost reaches
 *       {@code maxReplay}). Each level adds {@code replayStep} to the replay ratio of the coming epochs
 *       (the ratio itself stays below 0.9) and multiplies the distillation weight by {@code kdFactor}.
 *   <li>Still below after {@code patience} consecutive escalations: roll back to the best checkpoint
 *       that met the budget (keeping the raised protections) and reset the count. Without such a
 *       checkpoint the run continues at the highest level and says so.
 * </ol>
 *
 * Pure logic, no tensors: the trainer applies the decisions and logs them.
 */
public final class RetentionBudget {
  /** What to do after one measurement. */
  public enum Action { CONTINUE, ESCALATE, ROLLBACK }

  /** The decision and the protections now in force. */
  public record Decision(Action action, double ratio, int level, double replayBoost, double kdScale, long rollbackStep,
                         String reason) {}

  private final double budget;
  private final double replayStep;
  private final double maxReplay;
  private final double kdFactor;
  private final int patience;
  private int level;
  private int belowInARow;
  private long bestStep = -1;
  private double bestRatio = Double.NEGATIVE_INFINITY;

  public RetentionBudget(double budget, double replayStep, double maxReplay, double kdFactor, int patience) {
    if (!(budget > 0 && budget <= 1)) {
      throw new IllegalArgumentException("retention budget must be in (0, 1], got " + budget);
    }
    this.budget = budget;
    this.replayStep = replayStep;
    this.maxReplay = maxReplay;
    this.kdFactor = kdFactor;
    this.patience = Math.max(1, patience);
  }

  /** Defaults: +0.1 replay per level up to 0.5, distillation weight x2, roll back after 3 misses. */
  public static RetentionBudget of(double budget) {
    return new RetentionBudget(budget, 0.1, 0.5, 2.0, 3);
  }

  /**
   * Feeds the live general score at {@code step} (a higher-is-better score, e.g. accuracy) against the
   * base model's score, and returns the decision.
   */
  public Decision observe(long step, double score, double baseScore) {
    double ratio = baseScore == 0 ? 1.0 : score / baseScore;
    if (ratio >= budget) {
      belowInARow = 0;
      if (ratio > bestRatio) {
        bestRatio = ratio;
        bestStep = step;
      }
      return decision(Action.CONTINUE, ratio, String.format("general score %.1f%% of base, within budget %.1f%%",
          100 * ratio, 100 * budget));
    }
    belowInARow++;
    if (belowInARow > patience && bestStep >= 0) {
      belowInARow = 0;
      return decision(Action.ROLLBACK, ratio, String.format("general score %.1f%% of base stayed below budget %.1f%% after %d "
          + "escalations: rolling back to step %d (%.1f%%)", 100 * ratio, 100 * budget, patience, bestStep, 100 * bestRatio));
    }
    // Past the level where replay is capped, escalating only multiplies distillation further: stop there.
    level = Math.min(level + 1, maxLevel());
    return decision(Action.ESCALATE, ratio, String.format("general score %.1f%% of base is below budget %.1f%%: level %d, "
        + "replay +%.2f, distillation x%.2f%s", 100 * ratio, 100 * budget, level, replayBoost(), kdScale(),
        bestStep < 0 && belowInARow > patience ? " (no checkpoint met the budget yet, so no rollback)" : ""));
  }

  private Decision decision(Action a, double ratio, String reason) {
    return new Decision(a, ratio, level, replayBoost(), kdScale(), a == Action.ROLLBACK ? bestStep : -1, reason);
  }

  /** The highest level: where the replay boost reaches maxReplay. */
  public int maxLevel() {
    return (int) Math.ceil(maxReplay / replayStep - 1e-9);
  }

  /** Added replay ratio at the current level (at most maxReplay). */
  public double replayBoost() {
    return Math.min(level * replayStep, maxReplay);
  }

  public double kdScale() {
    return Math.pow(kdFactor, level);
  }

  public int level() {
    return level;
  }

  public long bestStep() {
    return bestStep;
  }

  /** The controller's state, kept in checkpoints so a resumed run decides as the uninterrupted one. */
  public java.util.Map<String, Object> state() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("level", level);
    m.put("below_in_a_row", belowInARow);
    m.put("best_step", bestStep);
    m.put("best_ratio", bestRatio == Double.NEGATIVE_INFINITY ? null : bestRatio);
    return m;
  }

  public void restore(java.util.Map<?, ?> m) {
    level = ((Number) m.get("level")).intValue();
    belowInARow = ((Number) m.get("below_in_a_row")).intValue();
    bestStep = ((Number) m.get("best_step")).longValue();
    Object r = m.get("best_ratio");
    bestRatio = r == null ? Double.NEGATIVE_INFINITY : ((Number) r).doubleValue();
  }
}
