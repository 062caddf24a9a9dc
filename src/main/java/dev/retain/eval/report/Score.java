package dev.retain.eval.report;

import dev.retain.eval.Wilson;

/**
 * An accuracy in [0, 1] with its 95% interval [low, high]. NaN {@code value} means "not measured";
 * NaN bounds mean "no interval known" (the report then prints the score alone).
 */
public record Score(double value, double low, double high) {
  public Score {
    if (!Double.isNaN(low) && !Double.isNaN(high) && low > high) {
      throw new IllegalArgumentException("interval [" + low + ", " + high + "] has low > high");
    }
  }

  /** A score without an interval. */
  public static Score point(double value) {
    return new Score(value, Double.NaN, Double.NaN);
  }

  /** Nothing measured. */
  public static Score missing() {
    return point(Double.NaN);
  }

  /** {@code correct} of {@code n} with the Wilson 95% interval. */
  public static Score wilson(long correct, long n) {
    double[] ci = Wilson.interval(correct, n);
    return new Score(n == 0 ? Double.NaN : correct / (double) n, ci[0], ci[1]);
  }

  public boolean measured() {
    return Double.isFinite(value);
  }

  public boolean hasInterval() {
    return Double.isFinite(low) && Double.isFinite(high);
  }
}
