package dev.retain.eval.report;

import dev.retain.eval.Forgetting;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The numbers the report computes for one method from the measured ones (design.md, "Forgetting"):
 *
 * <ul>
 *   <li>retention = G_after / G_before; drop = G_before - G_after
 *   <li>forgetting reduction = 1 - drop(M) / drop(naive); NaN without a naive run or when naive did
 *       not forget
 *   <li>domain gain = D_after - D_before; share of naive gain = gain(M) / gain(naive), NaN unless
 *       naive gained something
 *   <li>general CE rise = CE_after - CE_before (nats/token)
 *   <li>targets: keeps general = retention >= {@link #MIN_RETENTION}; reaches domain = gain >=
 *       {@link #MIN_SHARE_OF_NAIVE_GAIN} x naive's gain; meets targets = both. A check that cannot
 *       be made (a score missing, no naive run, naive gained nothing) is {@link Check#NA}.
 *   <li>on the Pareto front of (domain gain, retention), both maximised
 * </ul>
 *
 * Comparisons against the thresholds allow {@link #EPS} so that 0.76 / 0.80 counts as 95%.
 */
public record Derived(String method, double retention, double drop, double forgettingReduction, double domainGain,
                      double shareOfNaiveGain, double ceRise, double trainableShare, Check keepsGeneral,
                      Check reachesDomain, Check meetsTargets, boolean onParetoFront) {
  public static final double MIN_RETENTION = 0.95;
  public static final double MIN_SHARE_OF_NAIVE_GAIN = 0.80;
  public static final double EPS = 1e-9;

  /** The outcome of a target check; NA when the inputs it needs are missing. */
  public enum Check {
    PASS, FAIL, NA;

    static Check of(double value, double threshold) {
      if (!Double.isFinite(value)) {
        return NA;
      }
      return value >= threshold - EPS ? PASS : FAIL;
    }

    static Check and(Check a, Check b) {
      if (a == FAIL || b == FAIL) {
        return FAIL;
      }
      return a == PASS && b == PASS ? PASS : NA;
    }

    /** true, false or null, for JSON. */
    public Boolean asBoolean() {
      return this == NA ? null : this == PASS;
    }
  }

  /** The derived numbers of every method, in the comparison's order. */
  public static List<Derived> of(Comparison c) {
    double g0 = c.baseGeneral().value();
    double d0 = c.baseDomain().value();
    Optional<MethodResult> naive = c.naive();
    double naiveDrop = naive.map(n -> Forgetting.drop(g0, n.general().value())).orElse(Double.NaN);
    double naiveGain = naive.map(n -> Forgetting.domainGain(d0, n.domain().value())).orElse(Double.NaN);

    List<Pareto.Point> points = new ArrayList<>();
    for (MethodResult m : c.methods()) {
      points.add(new Pareto.Point(m.method(), Forgetting.domainGain(d0, m.domain().value()), safeRetention(g0, m.general().value())));
    }
    Set<String> front = new HashSet<>();
    Pareto.front(points).forEach(p -> front.add(p.label()));

    List<Derived> out = new ArrayList<>();
    for (MethodResult m : c.methods()) {
      double g = m.general().value();
      double retention = safeRetention(g0, g);
      double drop = Forgetting.drop(g0, g);
      double reduction = Double.isFinite(drop) && Double.isFinite(naiveDrop) ? Forgetting.forgettingReduction(drop, naiveDrop) : Double.NaN;
      double gain = Forgetting.domainGain(d0, m.domain().value());
      double share = Double.isFinite(gain) && naiveGain > 0 ? gain / naiveGain : Double.NaN;
      double ceRise = Forgetting.ceRise(c.baseGeneralCe(), m.generalCe());
      double trainableShare = m.totalParams() > 0 ? m.trainableParams() / (double) m.totalParams() : Double.NaN;
      Check keeps = Check.of(retention, MIN_RETENTION);
      Check reaches = Check.of(share, MIN_SHARE_OF_NAIVE_GAIN);
      out.add(new Derived(m.method(), retention, drop, reduction, gain, share, ceRise, trainableShare, keeps, reaches,
          Check.and(keeps, reaches), front.contains(m.method())));
    }
    return out;
  }

  private static double safeRetention(double before, double after) {
    double r = Forgetting.retention(before, after);
    return Double.isFinite(r) ? r : Double.NaN;
  }

  /** The rule that picks the best method, in words (the report prints it). */
  public static final String BEST_RULE = "the highest domain gain among methods that keep at least 95% of the base general score"
      + " (retention >= 0.95); if none does, the highest retention";

  /**
   * The best method by {@link #BEST_RULE}: ties on gain go to the higher retention, then to the
   * earlier method; empty when no method has a finite retention.
   */
  public static Optional<Derived> best(List<Derived> all) {
    Comparator<Derived> byGain = Comparator.comparingDouble(Derived::domainGain).thenComparingDouble(Derived::retention);
    Optional<Derived> keeping = all.stream()
        .filter(d -> d.keepsGeneral() == Check.PASS && Double.isFinite(d.domainGain()))
        .reduce((a, b) -> byGain.compare(b, a) > 0 ? b : a);
    if (keeping.isPresent()) {
      return keeping;
    }
    Comparator<Derived> byRetention = Comparator.comparingDouble(Derived::retention)
        .thenComparingDouble(d -> Double.isFinite(d.domainGain()) ? d.domainGain() : Double.NEGATIVE_INFINITY);
    return all.stream().filter(d -> Double.isFinite(d.retention())).reduce((a, b) -> byRetention.compare(b, a) > 0 ? b : a);
  }
}
