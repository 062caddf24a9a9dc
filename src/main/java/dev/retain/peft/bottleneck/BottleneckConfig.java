package dev.retain.peft.bottleneck;

import java.util.List;
import java.util.Locale;

/**
 * Settings of bottleneck adapters after each decoder layer's MLP (Houlsby et al. 2019):
 * mlp_out + W_up act(W_down mlp_out + b_down) + b_up.
 *
 * @param reductionFactor hidden size / bottleneck size (default 16)
 * @param bottleneckSize explicit bottleneck width; 0 derives max(1, hidden / reductionFactor)
 * @param activation silu (default), relu or gelu (exact, erf)
 * @param layers decoder layer indices that get an adapter; null = every layer
 */
public record BottleneckConfig(int reductionFactor, int bottleneckSize, Activation activation, List<Integer> layers) {
  public static final int DEFAULT_REDUCTION = 16;

  /** The nonlinearity between the down and up projections. */
  public enum Activation {
    SILU, RELU, GELU;

    /** As written in adapter_config.json: "silu", "relu", "gelu". */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Activation parse(String s) {
      if (s != null) {
        for (Activation a : values()) {
          if (a.id().equals(s.trim().toLowerCase(Locale.ROOT))) {
            return a;
          }
        }
      }
      throw new IllegalArgumentException("activation '" + s + "' is not supported; use silu, relu or gelu");
    }
  }

  public BottleneckConfig {
    if (reductionFactor <= 0) {
      throw new IllegalArgumentException("reduction_factor must be a positive integer, got " + reductionFactor);
    }
    if (bottleneckSize < 0) {
      throw new IllegalArgumentException("bottleneck_size must be >= 0 (0 = hidden / reduction_factor), got " + bottleneckSize);
    }
    if (activation == null) {
      activation = Activation.SILU;
    }
    if (layers != null) {
      if (layers.isEmpty()) {
        throw new IllegalArgumentException("layers: empty list; leave it out to adapt every layer");
      }
      for (Integer i : layers) {
        if (i == null || i < 0) {
          throw new IllegalArgumentException("layers: indices must be >= 0, got " + layers);
        }
      }
      layers = List.copyOf(layers);
    }
  }

  /** Reduction 16, silu, every layer. */
  public static BottleneckConfig defaults() {
    return new BottleneckConfig(DEFAULT_REDUCTION, 0, Activation.SILU, null);
  }

  /** The bottleneck width for a model of this hidden size. */
  public int bottleneckFor(int hiddenSize) {
    return bottleneckSize > 0 ? bottleneckSize : Math.max(1, hiddenSize / reductionFactor);
  }

  public boolean adaptsLayer(int index) {
    return layers == null || layers.contains(index);
  }
}
