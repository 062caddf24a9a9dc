package dev.retain.data;

/**
 * Seeded weighted sampling of indices 0..n-1, as PyTorch's WeightedRandomSampler: weights are
 * non-negative, need not sum to 1, and an index of weight 0 is never drawn. With replacement each
 * draw picks i with probability w_i / sum(w) (inverse CDF by binary search). Without replacement
 * uses the Efraimidis-Spirakis keys u_i^(1/w_i) (kept as log(u_i)/w_i), taking the largest; this is
 * the same as drawing one at a time with probability proportional to weight among those left, and
 * the result is in that draw order. Deterministic given the seed, on any JVM.
 */
public final class WeightedSampler {
  private final double[] weights;
  private final double[] cumulative;
  private final int positive;

  /** Copies {@code weights}; each must be finite and >= 0, and at least one > 0. */
  public WeightedSampler(double[] weights) {
    this.weights = weights.clone();
    this.cumulative = new double[weights.length];
    double sum = 0;
    int pos = 0;
    for (int i = 0; i < weights.length; i++) {
      double w = weights[i];
      if (!(w >= 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("sampling weight " + i + " is " + w + "; weights must be finite and >= 0");
      }
      sum += w;
      cumulative[i] = sum;
      if (w > 0) {
        pos++;
      }
    }
    if (pos == 0) {
      throw new IllegalArgumentException("all " + weights.length + " sampling weights are 0; at least one must be positive");
    }
    this.positive = pos;
  }

  /** Number of indices. */
  public int size() {
    return weights.length;
  }

  /** Number of indices with a positive weight (the most a draw without replacement can return). */
  public int positiveCount() {
    return positive;
  }

  /** {@code n} indices drawn with or without replacement, from a generator seeded with {@code seed}. */
  public int[] sample(int n, boolean replacement, long seed) {
    return sample(n, replacement, new SplitMix64(SplitMix64.mix(seed)));
  }

  int[] sample(int n, boolean replacement, SplitMix64 rng) {
    if (n < 0) {
      throw new IllegalArgumentException("cannot draw " + n + " samples");
    }
    return replacement ? withReplacement(n, rng) : withoutReplacement(n, rng);
  }

  private int[] withReplacement(int n, SplitMix64 rng) {
    int[] out = new int[n];
    double total = cumulative[cumulative.length - 1];
    for (int k = 0; k < n; k++) {
      double x = rng.nextDouble() * total;
      // smallest i with cumulative[i] > x; zero-weight i never qualifies first
      int lo = 0;
      int hi = cumulative.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cumulative[mid] > x) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      while (weights[lo] == 0) { // x landed exactly on a boundary after rounding: step back to a real item
        lo--;
      }
      out[k] = lo;
    }
    return out;
  }

  private int[] withoutReplacement(int n, SplitMix64 rng) {
    if (n > positive) {
      throw new IllegalArgumentException("cannot draw " + n + " distinct indices: only " + positive
          + " have a positive weight; draw with replacement or fewer");
    }
    // min-heap of the n largest keys
    double[] hk = new double[n];
    int[] hi = new int[n];
    int size = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] == 0) {
        continue;
      }
      double u = 1.0 - rng.nextDouble(); // (0, 1]
      double key = Math.log(u) / weights[i];
      if (size < n) {
        hk[size] = key;
        hi[size] = i;
        siftUp(hk, hi, size++);
      } else if (n > 0 && greater(key, i, hk[0], hi[0])) {
        hk[0] = key;
        hi[0] = i;
        siftDown(hk, hi, size);
      }
    }
    int[] out = new int[n];
    for (int k = n - 1; k >= 0; k--) { // pop smallest first: fill from the back, largest key first
      out[k] = hi[0];
      size--;
      hk[0] = hk[size];
      hi[0] = hi[size];
      siftDown(hk, hi, size);
    }
    return out;
  }

  /** Key order with ties broken by the lower index winning, so the result never depends on heap order. */
  private static boolean greater(double k1, int i1, double k2, int i2) {
    return k1 > k2 || (k1 == k2 && i1 < i2);
  }

  private static void siftUp(double[] k, int[] idx, int c) {
    while (c > 0) {
      int p = (c - 1) / 2;
      if (greater(k[p], idx[p], k[c], idx[c])) {
        swap(k, idx, p, c);
        c = p;
      } else {
        return;
      }
    }
  }

  private static void siftDown(double[] k, int[] idx, int size) {
    int p = 0;
    while (true) {
      int l = 2 * p + 1;
      if (l >= size) {
        return;
      }
      int m = l;
      if (l + 1 < size && greater(k[l], idx[l], k[l + 1], idx[l + 1])) {
        m = l + 1;
      }
      if (greater(k[p], idx[p], k[m], idx[m])) {
        swap(k, idx, p, m);
        p = m;
      } else {
        return;
      }
    }
  }

  private static void swap(double[] k, int[] idx, int a, int b) {
    double t = k[a];
    k[a] = k[b];
    k[b] = t;
    int u = idx[a];
    idx[a] = idx[b];
    idx[b] = u;
  }
}
