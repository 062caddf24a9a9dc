package dev.retain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.eval.RetentionBudget.Action;
import org.junit.jupiter.api.Test;

class RetentionBudgetTest {
  @Test
  void reactsWhenASyntheticRetentionSeriesCrossesTheBudget() {
    RetentionBudget b = RetentionBudget.of(0.97);
    double base = 0.80;
    // General accuracy over steps 100..800: fine, best at step 200, then it falls below 0.97*0.80 = 0.776.
    double[] series = {0.80, 0.81, 0.79, 0.70, 0.71, 0.72, 0.73, 0.78};
    Action[] expected = {Action.CONTINUE, Action.CONTINUE, Action.CONTINUE, Action.ESCALATE, Action.ESCALATE,
        Action.ESCALATE, Action.ROLLBACK, Action.CONTINUE};
    for (int i = 0; i < series.length; i++) {
      RetentionBudget.Decision d = b.observe(100L * (i + 1), series[i], base);
      assertEquals(expected[i], d.action(), "step " + (100 * (i + 1)) + ": " + d.reason());
      if (d.action() == Action.ROLLBACK) {
        assertEquals(200, d.rollbackStep());
        assertTrue(d.reason().contains("rolling back to step 200"), d.reason());
      }
    }
    // Three escalations: replay +0.30, distillation x8; the rollback kept them.
    assertEquals(3, b.level());
    assertEquals(0.30, b.replayBoost(), 1e-12);
    assertEquals(8.0, b.kdScale(), 1e-12);
  }

  @Test
  void replayBoostIsCappedAndNoRollbackWithoutAGoodCheckpoint() {
    RetentionBudget b = new RetentionBudget(0.95, 0.2, 0.5, 1.5, 1);
    RetentionBudget.Decision d = null;
    for (int i = 0; i < 5; i++) {
      d = b.observe(i, 0.5, 1.0);
      assertEquals(Action.ESCALATE, d.action());
    }
    assertEquals(0.5, d.replayBoost(), 1e-12);
    assertTrue(d.reason().contains("no checkpoint met the budget"), d.reason());
  }
}
