package dev.retain.data;

import java.util.List;

/**
 * The replay ratio r(e): the share of general (replayed) examples in epoch e, 0-based, of a run of E
 * epochs. With N domain examples an epoch holds {@code round(N * r / (1 - r))} general ones, so
 * general / (domain + general) = r up to rounding. Ratios lie in [0, 1): r = 1 would mean no domain
 * data at all and is refused.
 */
public sealed interface ReplaySchedule {

  /** r(e) for epoch {@code epoch} (0-based) of a run of {@code totalEpochs}. */
  double ratio(int epoch, int totalEpochs);

  /** The same r every epoch. */
  static ReplaySchedule constant(double r) {
    return new Constant(r);
  }

  /** r0 + (r1 - r0) * e / (E - 1): r0 in the first epoch, r1 in the last (r0 when E == 1). */
  static ReplaySchedule linear(double r0, double r1) {
    return new Linear(r0, r1);
  }

  /** One ratio per epoch; the last one repeats when the run is longer than the list. */
  static ReplaySchedule perEpoch(List<Double> ratios) {
    return new PerEpoch(ratios);
  }

  /** See {@link #constant}. */
  record Constant(double r) implements ReplaySchedule {
    public Constant {
      check(r, "replay ratio");
    }

    @Override
    public double ratio(int epoch, int totalEpochs) {
      checkEpoch(epoch, totalEpochs);
      return r;
    }

    @Override
    public String toString() {
      return "constant " + r;
    }
  }

  /** See {@link #linear}. Epochs past the last one keep r1. */
  record Linear(double r0, double r1) implements ReplaySchedule {
    public Linear {
      check(r0, "replay ratio r0 (start)");
      check(r1, "replay ratio r1 (end)");
    }

    @Override
    public double ratio(int epoch, int totalEpochs) {
      checkEpoch(epoch, totalEpochs);
      if (totalEpochs == 1) {
        return r0;
      }
      if (epoch >= totalEpochs - 1) {
        return r1;
      }
      return r0 + (r1 - r0) * epoch / (totalEpochs - 1);
    }

    @Override
    public String toString() {
      return "linear " + r0 + " -> " + r1;
    }
  }

  /** See {@link #perEpoch}. */
  record PerEpoch(List<Double> ratios) implements ReplaySchedule {
    public PerEpoch {
      if (ratios == null || ratios.isEmpty()) {
        throw new IllegalArgumentException("a per-epoch replay schedule needs at least one ratio, e.g. [0.15, 0.2, 0.3]");
      }
      ratios = List.copyOf(ratios);
      for (int i = 0; i < ratios.size(); i++) {
        check(ratios.get(i), "replay ratio for epoch " + i);
      }
    }

    @Override
    public double ratio(int epoch, int totalEpochs) {
      checkEpoch(epoch, totalEpochs);
      return ratios.get(Math.min(epoch, ratios.size() - 1));
    }

    @Override
    public String toString() {
      return "per epoch " + ratios;
    }
  }

  private static void check(double r, String what) {
    if (Double.isNaN(r) || r < 0 || r >= 1) {
      String hint = r >= 1
          ? "a ratio of 1 or more would leave no room for domain data; use a value below 1, e.g. 0.3 (30% general)"
          : "use a share in [0, 1), e.g. 0.15";
      throw new IllegalArgumentException(what + " is " + r + "; " + hint);
    }
  }

  private static void checkEpoch(int epoch, int totalEpochs) {
    if (totalEpochs < 1) {
      throw new IllegalArgumentException("a run needs at least one epoch, got " + totalEpochs);
    }
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
    }
  }
}
