package dev.retain.eval;

/**
 * The forgetting metrics of design.md, for one general score G and one domain score D measured on
 * the base model (before) and the tuned model (after):
 *
 * <ul>
 *   <li>retention = G_after / G_before
 *   <li>drop = G_before - G_after
 *   <li>relative forgetting reduction of a method M = 1 - drop(M) / drop(naive)
 *   <li>general cross-entropy rise (nats) = CE_after - CE_before
 *   <li>domain gain = D_after - D_before
 * </ul>
 */
public final class Forgetting {
  private Forgetting() {}

  public static double retention(double before, double after) {
    return before == 0 ? Double.NaN : after / before;
  }

  public static double drop(double before, double after) {
    return before - after;
  }

  /**
   * 1 - drop(M)/drop(naive): 1 means no forgetting at all, 0 as much as naive fine-tuning; NaN when
   * the naive run did not forget (nothing to reduce).
   */
  public static double forgettingReduction(double dropMethod, double dropNaive) {
    return dropNaive <= 0 ? Double.NaN : 1 - dropMethod / dropNaive;
  }

  public static double ceRise(double ceBefore, double ceAfter) {
    return ceAfter - ceBefore;
  }

  public static double domainGain(double before, double after) {
    return after - before;
  }
}
