package dev.retain.data;

/**
 * SplitMix64 (Steele, Lea, Flood 2014): a tiny, fully specified generator, so a seeded plan is the
 * same on every JVM and version (java.util.Random's algorithms are not ours to freeze). Not for
 * cryptography.
 */
final class SplitMix64 {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private long state;

  SplitMix64(long seed) {
    this.state = seed;
  }

  /** A generator for stream {@code stream} of epoch {@code epoch} of run seed {@code seed}. */
  static SplitMix64 derive(long seed, long epoch, long stream) {
    long h = mix(seed ^ 0x52455441494EL); // "RETAIN"
    h = mix(h + GOLDEN * (epoch + 1));
    h = mix(h + GOLDEN * (stream + 1) * 31);
    return new SplitMix64(h);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  /** Uniform in [0, 1). */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound), unbiased. */
  int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    // 2^64 mod bound values at the top of the range would bias the remainder: reject them.
    long rem = (Long.remainderUnsigned(-1L, bound) + 1) % bound;
    long maxAccept = -1L - rem; // unsigned 2^64 - 1 - rem
    while (true) {
      long x = nextLong();
      if (Long.compareUnsigned(x, maxAccept) <= 0) {
        return (int) Long.remainderUnsigned(x, bound);
      }
    }
  }

  /** Fisher-Yates shuffle of {@code a}. */
  void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
