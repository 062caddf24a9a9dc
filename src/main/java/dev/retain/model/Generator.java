package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Host;
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
          NDArray ids = Host.of(m, toLongs(seq), new Shape(1, seq.length));
          last = model.lastLogits(ids, null, null, cache).toFloatArray();
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

  /**
   * Greedy continuations of several prompts in one batch, each as {@link #generate} gives it alone
   * (up to the float rounding of batched matmuls): prompts are left-padded to a common length, pad keys
   * are masked out and each row's rotary positions start at 0 at its first real token. Row r stops at a
   * stop id or after {@code maxNewTokens[r]} tokens; the batch stops when every row has.
   */
  public static List<int[]> greedyBatch(CausalLM model, List<int[]> prompts, int[] maxNewTokens, Collection<Integer> stopIds) {
    int b = prompts.size();
    if (b == 0) {
      return List.of();
    }
    if (maxNewTokens.length != b) {
      throw new IllegalArgumentException(b + " prompts but " + maxNewTokens.length + " token budgets");
    }
    int p = 0;
    for (int[] prompt : prompts) {
      if (prompt.length == 0) {
        throw new IllegalArgumentException("generation needs a prompt of at least one token (add the bos token)");
      }
      p = Math.max(p, prompt.length);
    }
    int limit = model.config.maxPositionEmbeddings;
    if (p >= limit) {
      throw new IllegalArgumentException("a prompt has " + p + " tokens but the model handles at most " + limit
          + " positions (max_position_embeddings)");
    }
    int[] pad = new int[b];
    int[] budget = new int[b];
    List<List<Integer>> out = new ArrayList<>();
    boolean[] done = new boolean[b];
    int steps = 0;
    for (int r = 0; r < b; r++) {
      pad[r] = p - prompts.get(r).length;
      budget[r] = Math.min(maxNewTokens[r], limit - prompts.get(r).length);
      out.add(new ArrayList<>());
      done[r] = budget[r] <= 0;
      steps = Math.max(steps, budget[r]);
    }
    try (NDManager m = model.manager().newSubManager(); KVCache cache = new KVCache(model.config.numLayers)) {
      // Prefill; pad slots repeat the row's first token (their keys are masked out).
      long[] ids = new long[b * p];
      for (int r = 0; r < b; r++) {
        int[] prompt = prompts.get(r);
        for (int i = 0; i < p; i++) {
          ids[r * p + i] = i < pad[r] ? prompt[0] : prompt[i - pad[r]];
        }
      }
      float[] last = step(model, m, cache, ids, pad, p);
      int vocab = last.length / b;
      for (int s = 0; s < steps; s++) {
        long[] next = new long[b];
        for (int r = 0; r < b; r++) {
          int tok = argmax(last, r * vocab, vocab);
          next[r] = tok;
          if (done[r]) {
            continue;
          }
          if (stopIds != null && stopIds.contains(tok)) {
            done[r] = true;
          } else {
            out.get(r).add(tok);
            done[r] = out.get(r).size() >= budget[r];
          }
        }
        boolean all = true;
        for (boolean d : done) {
          all &= d;
        }
        if (all) {
          break;
        }
        last = step(model, m, cache, next, pad, 1); // one new token per row
      }
    }
    List<int[]> result = new ArrayList<>();
    for (List<Integer> o : out) {
      result.add(o.stream().mapToInt(Integer::intValue).toArray());
    }
    return result;
  }

  /**
   * One forward of [b, t] left-padded ids through the cache; the last position's logits of every row,
   * [b * V]. Row r's rotary positions count from its first real token (pad[r] slots in).
   */
  private static float[] step(CausalLM model, NDManager m, KVCache cache, long[] ids, int[] pad, int t) {
    int b = pad.length;
    int past = cache.length();
    long[] pos = new long[b * t];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        pos[r * t + i] = Math.max(0, past + i - pad[r]);
      }
    }
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      return model.lastLogits(Host.of(m, ids, new Shape(b, t)), Host.of(m, pos, new Shape(b, t)),
          Masks.leftPadded(m, pad, t, past), cache).toFloatArray();
    }
  }

  /** Index of the largest of logits[from, from + n), the lowest on ties. */
  private static int argmax(float[] logits, int from, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (logits[from + i] > logits[from + best]) {
        best = i;
      }
    }
    return best;
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
      return argmax(logits, 0, logits.length);
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
