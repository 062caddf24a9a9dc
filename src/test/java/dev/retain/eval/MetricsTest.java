package dev.retain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void wilsonIntervalsMatchKnownValues() {
    // 8 of 10: the textbook example, [0.4902, 0.9433].
    double[] a = Wilson.interval(8, 10);
    assertEquals(0.4902, a[0], 1e-4);
    assertEquals(0.9433, a[1], 1e-4);
    // 0 of 10: [0, 0.2775]; 10 of 10: [0.7225, 1].
    double[] z = Wilson.interval(0, 10);
    assertEquals(0.0, z[0], 1e-12);
    assertEquals(0.2775, z[1], 1e-4);
    double[] f = Wilson.interval(10, 10);
    assertEquals(0.7225, f[0], 1e-4);
    assertEquals(1.0, f[1], 1e-12);
    // 50 of 100: 0.5 +- 0.0962 -> [0.4038, 0.5962].
    double[] h = Wilson.interval(50, 100);
    assertEquals(0.4038, h[0], 1e-4);
    assertEquals(0.5962, h[1], 1e-4);
  }

  @Test
  void forgettingFormulasByHand() {
    // Base general 0.90, naive 0.50, protected 0.85.
    assertEquals(0.85 / 0.90, Forgetting.retention(0.90, 0.85), 1e-12);
    assertEquals(0.40, Forgetting.drop(0.90, 0.50), 1e-12);
    assertEquals(1 - 0.05 / 0.40, Forgetting.forgettingReduction(Forgetting.drop(0.90, 0.85), Forgetting.drop(0.90, 0.50)), 1e-12);
    assertEquals(0.875, Forgetting.forgettingReduction(0.05, 0.40), 1e-12);
    assertTrue(Double.isNaN(Forgetting.forgettingReduction(0.05, 0.0)));
    assertEquals(0.3, Forgetting.ceRise(2.1, 2.4), 1e-12);
    assertEquals(0.6, Forgetting.domainGain(0.1, 0.7), 1e-12);
  }

  @Test
  void normalisation() {
    assertEquals("paris", Probes.normalise("  Paris.\nQuestion: what"));
    assertEquals("19", Probes.normalise(" 19"));
    assertEquals("left ventricle", Probes.normalise("\"Left   Ventricle\""));
  }
}
