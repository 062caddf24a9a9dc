package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MixtureTest {

  /** n examples whose middle token tells them apart: [1, base + i, 2]. */
  static List<Example> examples(int n, int base) {
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Example(new int[] {1, base + i, 2}, new boolean[] {false, true, true}));
    }
    return out;
  }

  static Mixture mixture(ReplaySchedule s, int epochs, long seed) {
    return new Mixture(Mixture.Part.of("domain", examples(2000, 10_000)),
        List.of(Mixture.Part.of("general", examples(5000, 100_000))), s, epochs, seed, false);
  }

  @Test
  void realisedShareFollowsTheSchedule() {
    Mixture m = mixture(ReplaySchedule.linear(0.15, 0.30), 4, 1);
    double[] expected = {0.15, 0.20, 0.25, 0.30};
    for (int e = 0; e < 4; e++) {
      EpochPlan p = m.plan(e);
      assertEquals(expected[e], p.scheduledRatio(), 1e-12);
      assertEquals(expected[e], p.realisedGeneralShare(), 0.02, p.summary());
      // and counted from the plan itself, not from the plan's own report
      int general = 0;
      for (int i = 0; i < p.size(); i++) {
        general += p.sourceName(i).equals("general") ? 1 : 0;
      }
      assertEquals(expected[e], general / (double) p.size(), 0.02);
      assertEquals(2000, p.domainCount());
      assertEquals(Mixture.generalCount(2000, expected[e]), general);
    }
  }

  @Test
  void everyDomainExampleOnceAndGeneralWithoutRepeats() {
    EpochPlan p = mixture(ReplaySchedule.constant(0.3), 2, 5).plan(1);
    Set<Integer> domain = new HashSet<>();
    Set<Integer> general = new HashSet<>();
    for (int i = 0; i < p.size(); i++) {
      Set<Integer> set = p.sourceIndex(i) == 0 ? domain : general;
      assertTrue(set.add(p.exampleIndex(i)), "repeat at " + i);
      assertEquals(p.example(i).id(1) - (p.sourceIndex(i) == 0 ? 10_000 : 100_000), p.exampleIndex(i));
    }
    assertEquals(2000, domain.size());
    assertEquals(857, general.size());
    assertFalse(p.generalWithReplacement());
    // shuffled together: general examples are spread over the epoch, not appended
    int generalInFirstHalf = 0;
    for (int i = 0; i < p.size() / 2; i++) {
      generalInFirstHalf += p.sourceIndex(i);
    }
    assertEquals(857 / 2.0, generalInFirstHalf, 60);
  }

  @Test
  void planDependsOnlyOnSeedEpochAndData() {
    Mixture a = mixture(ReplaySchedule.constant(0.2), 3, 99);
    Mixture b = mixture(ReplaySchedule.constant(0.2), 3, 99);
    EpochPlan a2 = a.plan(2);
    a.plan(0);
    EpochPlan b2 = b.plan(2); // a "resumed" run that never built epochs 0 and 1
    assertArrayEquals(order(a2), order(b2));
    assertNotEquals(List.of(order(a2)), List.of(order(a.plan(1))));
    assertFalse(java.util.Arrays.equals(order(a2), order(mixture(ReplaySchedule.constant(0.2), 3, 100).plan(2))));
  }

  private static int[] order(EpochPlan p) {
    int[] o = new int[p.size()];
    for (int i = 0; i < p.size(); i++) {
      o[i] = p.sourceIndex(i) * 1_000_000 + p.exampleIndex(i);
    }
    return o;
  }

  @Test
  void perSourceWeightsShareTheGeneralDraws() {
    Mixture m = new Mixture(Mixture.Part.of("domain", examples(2000, 0)),
        List.of(new Mixture.Part("prose", examples(3000, 10_000), 1), new Mixture.Part("math", examples(500, 20_000), 2)),
        ReplaySchedule.constant(0.5), 1, 3, true);
    EpochPlan p = m.plan(0);
    int prose = p.countsBySource().get("prose");
    int math = p.countsBySource().get("math");
    assertEquals(2000, prose + math);
    // weights are per source: math gets 2/3 of the draws although it has 6 times fewer examples
    assertEquals(2 / 3.0, math / 2000.0, 0.05);
    assertTrue(p.generalWithReplacement());
    assertEquals(List.of("domain", "prose", "math"), p.sourceNames());
  }

  @Test
  void smallPoolFallsBackToReplacement() {
    Mixture m = new Mixture(Mixture.Part.of("domain", examples(100, 0)),
        List.of(Mixture.Part.of("general", examples(10, 1000))), ReplaySchedule.constant(0.5), 1, 3, false);
    EpochPlan p = m.plan(0);
    assertEquals(100, p.generalCount());
    assertTrue(p.generalWithReplacement());
  }

  @Test
  void zeroRatioNeedsNoGeneralData() {
    Mixture m = new Mixture(Mixture.Part.of("domain", examples(10, 0)), List.of(),
        ReplaySchedule.perEpoch(List.of(0.0, 0.2)), 2, 3, false);
    EpochPlan p = m.plan(0);
    assertEquals(10, p.size());
    assertEquals(0.0, p.realisedGeneralShare());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.plan(1));
    assertTrue(e.getMessage().contains("no general data"), e.getMessage());
  }

  @Test
  void namesMustBeDistinct() {
    assertThrows(IllegalArgumentException.class, () -> new Mixture(Mixture.Part.of("a", examples(1, 0)),
        List.of(Mixture.Part.of("a", examples(1, 0))), ReplaySchedule.constant(0.1), 1, 0, false));
  }
}
