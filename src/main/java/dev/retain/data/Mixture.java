package dev.retain.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The training data of a run: all domain examples every epoch, plus general examples replayed at the
 * ratio of a {@link ReplaySchedule}. Epoch e (0-based) holds the N domain examples and
 * {@code n_g = round(N * r(e) / (1 - r(e)))} general ones drawn by a {@link WeightedSampler}, all
 * shuffled together. Each epoch's plan depends only on (seed, e, data, schedule), so a resumed run
 * rebuilds it exactly.
 *
 * <p>Several general sources share the general draws by weight: source s gets a share
 * {@code w_s / sum(w)} in expectation ("prose: 1, math: 2" gives math two thirds of the general
 * examples whatever the sizes of the files); within a source every example is equally likely. So each
 * general example has sampling weight {@code w_s / N_s}. General examples are drawn without
 * replacement (no repeats within an epoch) unless {@code replacement} is set or the epoch needs more
 * than the general pool holds, in which case that epoch draws with replacement (the plan says so).
 * Draws without replacement that take a large part of the pool drift toward the sources' sizes; the
 * plan reports the realised count per source.
 */
public final class Mixture {
  /** Seed streams of an epoch. */
  private static final long STREAM_GENERAL = 1;
  private static final long STREAM_SHUFFLE = 2;

  /**
   * One source's training examples in the mixture. The domain part's weight is ignored.
   *
   * @param weight relative share among general sources (>= 0)
   */
  public record Part(String name, List<Example> examples, double weight) {
    public Part {
      Objects.requireNonNull(name, "name");
      examples = List.copyOf(examples);
      if (!(weight >= 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("source " + name + ": weight is " + weight + "; use a finite weight >= 0, e.g. 1");
      }
    }

    /** A part with weight 1. */
    public static Part of(String name, List<Example> examples) {
      return new Part(name, examples, 1.0);
    }
  }

  private final List<Part> parts; // 0 = domain, 1.. = general
  private final ReplaySchedule schedule;
  private final int totalEpochs;
  private final long seed;
  private final boolean replacement;
  private final WeightedSampler sampler; // null without general data
  private final int[] generalPart; // general pool index -> part index
  private final int[] generalIndex; // general pool index -> example index in its part

  /**
   * @param domain the domain source (all of its examples are used every epoch)
   * @param general the general sources to replay from (may be empty when every r(e) is 0)
   * @param totalEpochs the run's length, which a linear schedule needs
   * @param replacement draw general examples with replacement even when the pool is large enough
   */
  public Mixture(Part domain, List<Part> general, ReplaySchedule schedule, int totalEpochs, long seed, boolean replacement) {
    Objects.requireNonNull(domain, "domain");
    this.schedule = Objects.requireNonNull(schedule, "schedule");
    if (totalEpochs < 1) {
      throw new IllegalArgumentException("a run needs at least one epoch, got " + totalEpochs);
    }
    if (domain.examples().isEmpty()) {
      throw new IllegalArgumentException("domain source " + domain.name() + " has no examples");
    }
    List<Part> all = new ArrayList<>();
    all.add(domain);
    all.addAll(general);
    Set<String> names = new HashSet<>();
    for (Part p : all) {
      if (!names.add(p.name())) {
        throw new IllegalArgumentException("two data sources are called " + p.name() + "; give each a distinct name");
      }
    }
    this.parts = List.copyOf(all);
    this.totalEpochs = totalEpochs;
    this.seed = seed;
    this.replacement = replacement;
    int pool = 0;
    for (Part g : general) {
      if (g.examples().isEmpty() && g.weight() > 0) {
        throw new IllegalArgumentException("general source " + g.name() + " has no examples");
      }
      pool += g.examples().size();
    }
    generalPart = new int[pool];
    generalIndex = new int[pool];
    double[] w = new double[pool];
    int k = 0;
    boolean anyWeight = false;
    for (int p = 1; p < parts.size(); p++) {
      Part g = parts.get(p);
      for (int i = 0; i < g.examples().size(); i++, k++) {
        generalPart[k] = p;
        generalIndex[k] = i;
        w[k] = g.weight() / g.examples().size();
        anyWeight |= w[k] > 0;
      }
    }
    sampler = anyWeight ? new WeightedSampler(w) : null;
  }

  /** n_g = round(nDomain * r / (1 - r)) general examples for nDomain domain ones at ratio r. */
  public static int generalCount(int nDomain, double r) {
    if (Double.isNaN(r) || r < 0 || r >= 1) {
      throw new IllegalArgumentException("replay ratio " + r + " is outside [0, 1)");
    }
    double n = Math.rint(nDomain * r / (1 - r)); // half to even: no platform dependence
    if (n > Integer.MAX_VALUE - nDomain) {
      throw new IllegalArgumentException("replay ratio " + r + " asks for " + n + " general examples, too many for one epoch");
    }
    return (int) n;
  }

  public Part domain() {
    return parts.get(0);
  }

  /** Sources in plan order: the domain first, then the general ones. */
  public List<Part> parts() {
    return parts;
  }

  public ReplaySchedule schedule() {
    return schedule;
  }

  public int totalEpochs() {
    return totalEpochs;
  }

  /** Whether general examples are drawn with replacement even when the pool is large enough. */
  public boolean replacement() {
    return replacement;
  }

  public long seed() {
    return seed;
  }

  /** r(e) of the schedule. */
  public double ratio(int epoch) {
    return schedule.ratio(epoch, totalEpochs);
  }

  /** The examples of epoch {@code epoch} (0-based) in training order. */
  public EpochPlan plan(int epoch) {
    double r = ratio(epoch);
    List<Example> domain = parts.get(0).examples();
    int nd = domain.size();
    int ng = generalCount(nd, r);
    if (ng > 0 && sampler == null) {
      throw new IllegalArgumentException("the replay schedule (" + schedule + ") gives r = " + r + " for epoch " + epoch
          + " but there is no general data to replay" + (parts.size() > 1 ? " (all general weights are 0)" : "")
          + "; add a general source or set the replay ratio to 0");
    }
    boolean withReplacement = replacement || (sampler != null && ng > sampler.positiveCount());
    int[] drawn = ng == 0 ? new int[0] : sampler.sample(ng, withReplacement, SplitMix64.derive(seed, epoch, STREAM_GENERAL));
    int total = nd + ng;
    // entry k < nd is domain example k; entry nd + j is general draw j
    int[] order = new int[total];
    for (int k = 0; k < total; k++) {
      order[k] = k;
    }
    SplitMix64.derive(seed, epoch, STREAM_SHUFFLE).shuffle(order);
    int[] part = new int[total];
    int[] index = new int[total];
    for (int k = 0; k < total; k++) {
      int o = order[k];
      if (o < nd) {
        part[k] = 0;
        index[k] = o;
      } else {
        int g = drawn[o - nd];
        part[k] = generalPart[g];
        index[k] = generalIndex[g];
      }
    }
    return new EpochPlan(epoch, r, parts, part, index, nd, ng, withReplacement);
  }
}
