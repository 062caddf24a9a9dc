package dev.retain.eval.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one fine-tuning method produced, as measured by the comparison runner.
 *
 * @param method short name ("naive", "replay", "staged", "ewc", "lora", "adapters", "distill",
 *     "replay+distill", "all"); "naive" is the reference for forgetting reduction and the domain target
 * @param description one line: the protections this method applies
 * @param general general score after training: accuracy over the items of the general exact/choice
 *     suites pooled, with its 95% Wilson interval
 * @param domain domain score after training, with its 95% interval
 * @param generalCe mean cross-entropy on held-out general text after training (nats/token); NaN if
 *     not measured
 * @param trainableParams parameters updated by the optimizer
 * @param totalParams all parameters of the model (including adapters)
 * @param peakRssBytes peak resident memory of the training process
 * @param tokensPerSecond training tokens per second of training wall time
 * @param wallSeconds wall time of the whole run (training and live evaluation)
 * @param suites per-suite scores after training, in the order the report should show them
 * @param curve live evaluations during training, by step
 * @param fisherPerLayer layer index to the summed diagonal Fisher of that layer's parameters (EWC);
 *     empty for methods without one. Stored sorted by layer.
 */
public record MethodResult(String method, String description, Score general, Score domain, double generalCe,
                           long trainableParams, long totalParams, long peakRssBytes, double tokensPerSecond,
                           double wallSeconds, List<SuiteScore> suites, List<CurvePoint> curve,
                           Map<Integer, Double> fisherPerLayer) {
  public MethodResult {
    if (method == null || method.isBlank()) {
      throw new IllegalArgumentException("a method result needs a method name");
    }
    description = description == null ? "" : description;
    general = general == null ? Score.missing() : general;
    domain = domain == null ? Score.missing() : domain;
    suites = suites == null ? List.of() : List.copyOf(suites);
    curve = curve == null ? List.of() : List.copyOf(curve);
    fisherPerLayer = fisherPerLayer == null ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(fisherPerLayer));
  }

  public static Builder builder(String method) {
    return new Builder(method);
  }

  /** Fills a {@link MethodResult} field by field; unset numbers are NaN (or 0 for counts). */
  public static final class Builder {
    private final String method;
    private String description = "";
    private Score general = Score.missing();
    private Score domain = Score.missing();
    private double generalCe = Double.NaN;
    private long trainableParams;
    private long totalParams;
    private long peakRssBytes;
    private double tokensPerSecond = Double.NaN;
    private double wallSeconds = Double.NaN;
    private final List<SuiteScore> suites = new ArrayList<>();
    private final List<CurvePoint> curve = new ArrayList<>();
    private final Map<Integer, Double> fisher = new TreeMap<>();

    private Builder(String method) {
      this.method = Objects.requireNonNull(method, "method");
    }

    public Builder description(String d) {
      description = d;
      return this;
    }

    public Builder general(Score s) {
      general = s;
      return this;
    }

    public Builder domain(Score s) {
      domain = s;
      return this;
    }

    public Builder generalCe(double ce) {
      generalCe = ce;
      return this;
    }

    public Builder params(long trainable, long total) {
      trainableParams = trainable;
      totalParams = total;
      return this;
    }

    public Builder peakRssBytes(long bytes) {
      peakRssBytes = bytes;
      return this;
    }

    public Builder tokensPerSecond(double tps) {
      tokensPerSecond = tps;
      return this;
    }

    public Builder wallSeconds(double s) {
      wallSeconds = s;
      return this;
    }

    public Builder suite(SuiteScore s) {
      suites.add(s);
      return this;
    }

    public Builder suites(List<SuiteScore> s) {
      suites.addAll(s);
      return this;
    }

    public Builder point(CurvePoint p) {
      curve.add(p);
      return this;
    }

    public Builder curve(List<CurvePoint> c) {
      curve.addAll(c);
      return this;
    }

    public Builder fisher(int layer, double mass) {
      fisher.put(layer, mass);
      return this;
    }

    public Builder fisher(Map<Integer, Double> perLayer) {
      fisher.putAll(perLayer);
      return this;
    }

    public MethodResult build() {
      return new MethodResult(method, description, general, domain, generalCe, trainableParams, totalParams, peakRssBytes,
          tokensPerSecond, wallSeconds, suites, curve, fisher);
    }
  }
}
