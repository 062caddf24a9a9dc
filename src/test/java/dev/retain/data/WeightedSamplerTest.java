package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WeightedSamplerTest {

  @Test
  void withReplacementFrequenciesMatchWeights() {
    double[] w = {1, 2, 0, 3, 4}; // sums to 10, need not be normalised
    int n = 100_000;
    int[] counts = new int[w.length];
    for (int i : new WeightedSampler(w).sample(n, true, 42)) {
      counts[i]++;
    }
    assertEquals(0, counts[2], "weight 0 is never drawn");
    for (int i = 0; i < w.length; i++) {
      // standard deviation of a share is at most 0.0016 here: 0.01 is over 6 sigma
      assertEquals(w[i] / 10, counts[i] / (double) n, 0.01, "index " + i);
    }
  }

  @Test
  void withoutReplacementGivesDistinctIndices() {
    double[] w = new double[1000];
    for (int i = 0; i < w.length; i++) {
      w[i] = 1 + (i % 7);
    }
    w[10] = 0;
    WeightedSampler s = new WeightedSampler(w);
    int[] a = s.sample(999, false, 7);
    Set<Integer> seen = new HashSet<>();
    for (int i : a) {
      assertFalse(i == 10, "weight 0 is never drawn");
      assertEquals(true, seen.add(i), "index " + i + " drawn twice");
    }
    assertEquals(999, seen.size());
    assertThrows(IllegalArgumentException.class, () -> s.sample(1000, false, 7));
  }

  @Test
  void withoutReplacementFirstDrawFollowsWeights() {
    // the first index of a draw without replacement is a weighted draw
    double[] w = {1, 3};
    WeightedSampler s = new WeightedSampler(w);
    int ones = 0;
    int n = 20_000;
    for (int k = 0; k < n; k++) {
      ones += s.sample(2, false, k)[0] == 1 ? 1 : 0;
    }
    assertEquals(0.75, ones / (double) n, 0.015);
  }

  @Test
  void sameSeedSameResult() {
    double[] w = {5, 1, 1, 2, 8, 0.5};
    WeightedSampler s = new WeightedSampler(w);
    assertArrayEquals(s.sample(50, true, 123), new WeightedSampler(w).sample(50, true, 123));
    assertArrayEquals(s.sample(5, false, 123), new WeightedSampler(w).sample(5, false, 123));
    assertNotEquals(Arrays.toString(s.sample(50, true, 123)), Arrays.toString(s.sample(50, true, 124)));
  }

  @Test
  void badWeightsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new WeightedSampler(new double[] {1, -1}));
    assertThrows(IllegalArgumentException.class, () -> new WeightedSampler(new double[] {1, Double.NaN}));
    assertThrows(IllegalArgumentException.class, () -> new WeightedSampler(new double[] {1, Double.POSITIVE_INFINITY}));
    assertThrows(IllegalArgumentException.class, () -> new WeightedSampler(new double[] {0, 0}));
    assertThrows(IllegalArgumentException.class, () -> new WeightedSampler(new double[0]));
  }

  @Test
  void rngIntegersAreUniform() {
    SplitMix64 r = new SplitMix64(1);
    int[] c = new int[3];
    for (int i = 0; i < 30_000; i++) {
      c[r.nextInt(3)]++;
    }
    for (int x : c) {
      assertEquals(10_000, x, 400);
    }
  }
}
