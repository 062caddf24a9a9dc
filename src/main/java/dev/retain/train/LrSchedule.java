package dev.retain.train;

/**
 * Learning-rate multiplier over the steps of one stage: linear warmup from 0 to the peak over
 * {@code warmup} steps, then constant, cosine or linear decay to {@code minRatio} of the peak at the
 * stage's last step. Step numbers start at 0; the multiplier of step 0 with warmup W is 1/W
 * (as transformers' get_*_schedule_with_warmup evaluated after the first step).
 */
public record LrSchedule(Kind kind, int warmup, int total, double minRatio) {
  public enum Kind { CONSTANT, COSINE, LINEAR }

  public LrSchedule {
    if (warmup < 0 || total < 1 || minRatio < 0 || minRatio > 1) {
      throw new IllegalArgumentException("invalid schedule: warmup " + warmup + ", total " + total + ", min ratio " + minRatio);
    }
  }

  /** The multiplier in [0, 1] for {@code step} (0-based) of this stage. */
  public double factor(int step) {
    if (warmup > 0 && step < warmup) {
      return (step + 1) / (double) warmup;
    }
    if (kind == Kind.CONSTANT) {
      return 1.0;
    }
    int decaySteps = Math.max(1, total - warmup - 1);
    double progress = Math.min(1.0, Math.max(0, step - warmup) / (double) decaySteps);
    double shape = kind == Kind.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
    return minRatio + (1 - minRatio) * shape;
  }
}
