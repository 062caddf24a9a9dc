package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayScheduleTest {
  private static final double EPS = 1e-12;

  @Test
  void constant() {
    ReplaySchedule s = ReplaySchedule.constant(0.2);
    for (int e = 0; e < 5; e++) {
      assertEquals(0.2, s.ratio(e, 5), EPS);
    }
  }

  @Test
  void linearFifteenToThirtyOverFourEpochs() {
    ReplaySchedule s = ReplaySchedule.linear(0.15, 0.30);
    assertEquals(0.15, s.ratio(0, 4), EPS);
    assertEquals(0.20, s.ratio(1, 4), EPS);
    assertEquals(0.25, s.ratio(2, 4), EPS);
    assertEquals(0.30, s.ratio(3, 4), EPS);
    assertEquals(0.30, s.ratio(4, 4), EPS, "past the end it stays at r1");
    assertEquals(0.15, s.ratio(0, 1), EPS, "one epoch: r0");
    assertEquals(0.30, ReplaySchedule.linear(0.3, 0.1).ratio(0, 3), EPS);
    assertEquals(0.20, ReplaySchedule.linear(0.3, 0.1).ratio(1, 3), EPS);
  }

  @Test
  void perEpochRepeatsTheLastValue() {
    ReplaySchedule s = ReplaySchedule.perEpoch(List.of(0.1, 0.0, 0.25));
    assertEquals(0.1, s.ratio(0, 6), EPS);
    assertEquals(0.0, s.ratio(1, 6), EPS);
    assertEquals(0.25, s.ratio(2, 6), EPS);
    assertEquals(0.25, s.ratio(5, 6), EPS);
  }

  @Test
  void ratiosMustBeBelowOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.constant(1.0));
    assertTrue(e.getMessage().contains("no room for domain data"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.constant(-0.1));
    assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.constant(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.linear(0.1, 1.0));
    e = assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.perEpoch(List.of(0.1, 1.5)));
    assertTrue(e.getMessage().contains("epoch 1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.perEpoch(List.of()));
    assertThrows(IllegalArgumentException.class, () -> ReplaySchedule.constant(0.1).ratio(-1, 3));
  }

  @Test
  void generalCountFollowsTheDefinition() {
    assertEquals(0, Mixture.generalCount(2000, 0.0));
    assertEquals(353, Mixture.generalCount(2000, 0.15)); // 2000 * 0.15 / 0.85 = 352.94
    assertEquals(500, Mixture.generalCount(2000, 0.20));
    assertEquals(857, Mixture.generalCount(2000, 0.30)); // 857.14
    assertEquals(3, Mixture.generalCount(3, 0.5));
  }
}
