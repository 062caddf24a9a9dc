package dev.retain.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The examples of one epoch in training order, each tagged with its source, and what the mixture
 * realised (general share, count per source). Built by {@link Mixture#plan}; packed by {@link Packer}.
 */
public final class EpochPlan {
  private final int epoch;
  private final double scheduledRatio;
  private final List<Mixture.Part> parts;
  private final int[] part;
  private final int[] index;
  private final int domainCount;
  private final int generalCount;
  private final boolean generalWithReplacement;

  EpochPlan(int epoch, double scheduledRatio, List<Mixture.Part> parts, int[] part, int[] index, int domainCount,
      int generalCount, boolean generalWithReplacement) {
    this.epoch = epoch;
    this.scheduledRatio = scheduledRatio;
    this.parts = parts;
    this.part = part;
    this.index = index;
    this.domainCount = domainCount;
    this.generalCount = generalCount;
    this.generalWithReplacement = generalWithReplacement;
  }

  public int epoch() {
    return epoch;
  }

  /** r(e) of the schedule. */
  public double scheduledRatio() {
    return scheduledRatio;
  }

  /** general / (domain + general) as drawn (differs from r(e) by rounding only). */
  public double realisedGeneralShare() {
    return (double) generalCount / (domainCount + generalCount);
  }

  public int domainCount() {
    return domainCount;
  }

  public int generalCount() {
    return generalCount;
  }

  /** Whether this epoch's general examples were drawn with replacement. */
  public boolean generalWithReplacement() {
    return generalWithReplacement;
  }

  /** Number of examples. */
  public int size() {
    return part.length;
  }

  /** The i-th example of the epoch. */
  public Example example(int i) {
    return parts.get(part[i]).examples().get(index[i]);
  }

  /** Index of the source of example i in {@link #sourceNames()} (0 = domain). */
  public int sourceIndex(int i) {
    return part[i];
  }

  /** Index of example i within its source's training examples. */
  public int exampleIndex(int i) {
    return index[i];
  }

  public String sourceName(int i) {
    return parts.get(part[i]).name();
  }

  /** Source names, domain first. */
  public List<String> sourceNames() {
    List<String> names = new ArrayList<>();
    for (Mixture.Part p : parts) {
      names.add(p.name());
    }
    return Collections.unmodifiableList(names);
  }

  /** Examples per source, domain first. */
  public Map<String, Integer> countsBySource() {
    int[] c = new int[parts.size()];
    for (int p : part) {
      c[p]++;
    }
    Map<String, Integer> out = new LinkedHashMap<>();
    for (int p = 0; p < parts.size(); p++) {
      out.put(parts.get(p).name(), c[p]);
    }
    return Collections.unmodifiableMap(out);
  }

  /** One line for the log. */
  public String summary() {
    return String.format(java.util.Locale.ROOT, "epoch %d: %d examples, general share %.4f (scheduled %.4f)%s, per source %s",
        epoch, size(), realisedGeneralShare(), scheduledRatio, generalWithReplacement ? ", general drawn with replacement" : "",
        countsBySource());
  }
}
