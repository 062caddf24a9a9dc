package dev.retain.eval;

/**
 * Wilson score interval for a binomial proportion (Wilson 1927): better than the normal
 * approximation for small probe sets and for accuracies near 0 or 1.
 *
 * <pre>
 *   centre = (p + z^2/2n) / (1 + z^2/n),  half = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)
 * </pre>
 */
public final class Wilson {
  /** z for a two-sided 95% interval. */
  public static final double Z95 = 1.959963984540054;

  private Wilson() {}

  /** [low, high] of the 95% interval for {@code successes} out of {@code n} (n = 0 gives [0, 1]). */
  public static double[] interval(long successes, long n) {
    return interval(successes, n, Z95);
  }

  public static double[] interval(long successes, long n, double z) {
    if (n <= 0) {
      return new double[] {0, 1};
    }
    if (successes < 0 || successes > n) {
      throw new IllegalArgumentException("successes " + successes + " not in [0, " + n + "]");
    }
    double p = successes / (double) n;
    double z2 = z * z;
    double denom = 1 + z2 / n;
    double centre = (p + z2 / (2 * n)) / denom;
    double half = z / denom * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }
}
