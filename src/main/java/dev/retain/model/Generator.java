package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Random;

/**
 * Text continuation: greedy (temperature 0) or temperature sampling with nucleus (top-p)
 * filtering, stopping at an end-of-sequence id or after {@code maxNewTokens}. With the KV cache each
 * new token costs one position of compute; without it the whole sequence is recomputed (kept as the
 * reference the cache is tested against).
 */
public final class Generator {
  /** How to pick tokens. temperature 0 means greedy; seed fixes sampling. */
  public record Sampling(int maxNewTokens, double temperature, double topP, long seed, Collection<Integer> stopIds) {
    public static Sampling greedy(int maxNewTokens, Collection<Integer> stopIds) {
      return new Sampling(maxNewTokens, 0, 1.0, 0, stopIds);
    }
  }

  private Generator() {}

  /** The new token ids after {@code prompt} (the stop id, if reached, is not included). */
  public static int[] generate(CausalLM model, int[] prompt, Sampling s, boolean useCache) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("generation needs a prompt of at least one token (add the bos token)");
    }
    int limit = model.config.maxPositionEmbeddings;
    if (prompt.length >= limit) {
      throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the model handles at most "
          + limit + " positions (max_position_embeddings)");
    }
    Random rng = new Random(s.seed());
    List<Integer> out = new ArrayList<>();
    try (NDManager m = model.manager().newSubManager();
        KVCache cache = useCache ? new KVCache(model.config.numLayers) : null) {
      int[] feed = prompt;
      int total = prompt.length;
      while (out.size() < s.maxNewTokens() && total < limit) {
        float[] last;
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          int[] seq = feed;
          if (!useCache) {
            seq = Arrays.copyOf(prompt, prompt.length + out.size());
            for (int i = 0; i < out.size(); i++) {
              seq[prompt.length + i] = out.get(i);
            }
          }
          NDArray ids = m.create(toLongs(seq), new Shape(1, seq.length));
          NDArray logits = model.forward(ids, null, null, cache, false).logits();
          last = logits.get(0, seq.length - 1).toFloatArray();
        }
        int next = pick(last, s, rng);
        if (s.stopIds() != null && s.stopIds().contains(next)) {
          break;
        }
        out.add(next);
        feed = new int[] {next};
        total++;
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  static long[] toLongs(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return l;
  }

  /** Greedy argmax (lowest index on ties) or a sample from the temperature/top-p distribution. */
  static int pick(float[] logits, Sampling s, Random rng) {
    if (s.temperature() <= 0) {
      int best = 0;
      for (int i = 1; i < logits.length; i++) {
        if (logits[i] > logits[best]) {
          best = i;
        }
      }
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp((logits[i] - max) / s.temperature());
      sum += p[i];
    }
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      order[i] = i;
      p[i] /= sum;
    }
    Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
    double cum = 0;
    int keep = 0;
    while (keep < order.length) {
      cum += p[order[keep++]];
      if (cum >= s.topP()) {
        break;
      }
    }
    double r = rng.nextDouble() * cum;
    double acc = 0;
    for (int i = 0; i < keep; i++) {
      acc += p[order[i]];
      if (r < acc) {
        return order[i];
      }
    }
    return order[keep - 1];
  }
}
