package dev.retain.peft.lora;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA settings, named as PEFT's LoraConfig: y = W x + scaling * B A dropout(x) with
 * scaling = alpha / r (rsLoRA: alpha / sqrt(r)).
 *
 * @param r rank (> 0)
 * @param alpha lora_alpha
 * @param dropout probability of dropping an input feature before A while training, in [0, 1)
 * @param useRslora scaling alpha/sqrt(r) instead of alpha/r (Kalajdzievski 2023)
 * @param targetModules which linear layers (names, regex or all-linear)
 * @param layersToTransform decoder layer indices to adapt; null = all layers
 * @param rankPattern PEFT's rank_pattern: per-module rank overrides keyed by a name suffix or regex; empty for none
 * @param alphaPattern PEFT's alpha_pattern: per-module alpha overrides; empty for none
 */
public record LoraConfig(int r, double alpha, double dropout, boolean useRslora, TargetModules targetModules,
    List<Integer> layersToTransform, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern) {

  public static final int DEFAULT_R = 8;
  public static final double DEFAULT_ALPHA = 32;

  public LoraConfig {
    if (r <= 0) {
      throw new IllegalArgumentException("lora r must be a positive integer, got " + r);
    }
    if (!Double.isFinite(alpha) || alpha <= 0) {
      throw new IllegalArgumentException("lora alpha must be a positive number, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("lora dropout must be in [0, 1), got " + dropout);
    }
    Objects.requireNonNull(targetModules, "targetModules");
    if (layersToTransform != null) {
      for (Integer i : layersToTransform) {
        if (i == null || i < 0) {
          throw new IllegalArgumentException("layers_to_transform: layer indices must be >= 0, got " + layersToTransform);
        }
      }
      if (layersToTransform.isEmpty()) {
        throw new IllegalArgumentException("layers_to_transform: empty list; leave it out to adapt every layer");
      }
      layersToTransform = List.copyOf(layersToTransform);
    }
    rankPattern = rankPattern == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
    alphaPattern = alphaPattern == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
    for (Map.Entry<String, Integer> e : rankPattern.entrySet()) {
      patternOf(e.getKey());
      if (e.getValue() == null || e.getValue() <= 0) {
        throw new IllegalArgumentException("rank_pattern '" + e.getKey() + "': rank must be a positive integer, got " + e.getValue());
      }
    }
    for (Map.Entry<String, Double> e : alphaPattern.entrySet()) {
      patternOf(e.getKey());
      if (e.getValue() == null || !Double.isFinite(e.getValue()) || e.getValue() <= 0) {
        throw new IllegalArgumentException("alpha_pattern '" + e.getKey() + "': alpha must be a positive number, got " + e.getValue());
      }
    }
  }

  /** Everything but the patterns. */
  public LoraConfig(int r, double alpha, double dropout, boolean useRslora, TargetModules targetModules,
      List<Integer> layersToTransform) {
    this(r, alpha, dropout, useRslora, targetModules, layersToTransform, Map.of(), Map.of());
  }

  /** r=8, alpha=32, dropout 0, q_proj and v_proj of every layer, plain scaling. */
  public static LoraConfig defaults() {
    return new LoraConfig(DEFAULT_R, DEFAULT_ALPHA, 0.0, false, TargetModules.names("q_proj", "v_proj"), null);
  }

  public LoraConfig withRank(int newR) {
    return new LoraConfig(newR, alpha, dropout, useRslora, targetModules, layersToTransform, rankPattern, alphaPattern);
  }

  public LoraConfig withAlpha(double newAlpha) {
    return new LoraConfig(r, newAlpha, dropout, useRslora, targetModules, layersToTransform, rankPattern, alphaPattern);
  }

  public LoraConfig withDropout(double p) {
    return new LoraConfig(r, alpha, p, useRslora, targetModules, layersToTransform, rankPattern, alphaPattern);
  }

  public LoraConfig withRslora(boolean on) {
    return new LoraConfig(r, alpha, dropout, on, targetModules, layersToTransform, rankPattern, alphaPattern);
  }

  public LoraConfig withTargets(TargetModules t) {
    return new LoraConfig(r, alpha, dropout, useRslora, t, layersToTransform, rankPattern, alphaPattern);
  }

  public LoraConfig withLayers(List<Integer> layers) {
    return new LoraConfig(r, alpha, dropout, useRslora, targetModules, layers == null ? null : new ArrayList<>(layers),
        rankPattern, alphaPattern);
  }

  /** Whether decoder layer {@code index} is adapted. */
  public boolean transformsLayer(int index) {
    return layersToTransform == null || layersToTransform.contains(index);
  }

  /** The rank of module {@code moduleName}: the first rank_pattern key that it ends with (PEFT's rule), else r. */
  public int rankFor(String moduleName) {
    String key = patternKey(moduleName);
    Integer v = key == null ? null : rankPattern.get(key);
    return v == null ? r : v;
  }

  /** The alpha of module {@code moduleName}, as {@link #rankFor}. */
  public double alphaFor(String moduleName) {
    String key = patternKey(moduleName);
    Double v = key == null ? null : alphaPattern.get(key);
    return v == null ? alpha : v;
  }

  /** scaling = alpha/r, or alpha/sqrt(r) with rsLoRA. */
  public static double scaling(double alpha, int r, boolean rslora) {
    return rslora ? alpha / Math.sqrt(r) : alpha / r;
  }

  /** PEFT 0.10: the first key of rank_pattern then alpha_pattern with re.match(".*\.KEY$", name). */
  private String patternKey(String moduleName) {
    for (String k : rankPattern.keySet()) {
      if (patternOf(k).matcher(moduleName).lookingAt()) {
        return k;
      }
    }
    for (String k : alphaPattern.keySet()) {
      if (patternOf(k).matcher(moduleName).lookingAt()) {
        return k;
      }
    }
    return null;
  }

  private static Pattern patternOf(String key) {
    try {
      return Pattern.compile(".*\\." + key + "$");
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("rank_pattern/alpha_pattern key '" + key + "' is not a valid regular expression: "
          + e.getDescription());
    }
  }
}
