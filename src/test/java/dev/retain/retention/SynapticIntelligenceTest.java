package dev.retain.retention;

import static dev.retain.retention.Support.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.train.StepContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SI on the two-parameter quadratic L = a (x1 - 1)^2 + b (x2 + 2)^2 with plain gradient steps
 * x <- x - lr g: omega and Omega against the formulas computed here by hand.
 */
class SynapticIntelligenceTest {
  static final double A = 1.0;
  static final double B = 3.0;
  static final double LR = 0.1;
  static final double XI = 0.01;

  NDManager m;
  Parameter x;
  NDArray w;

  @BeforeEach
  void setUp() {
    m = Backend.newManager();
    x = TestLoRA.param(m, "x", new float[] {0f, 0f}, new ai.djl.ndarray.types.Shape(2));
    x.setTrainable(true);
    w = m.create(new float[] {(float) A, (float) B});
  }

  @AfterEach
  void tearDown() {
    m.close();
  }

  StepContext ctx(long step) {
    return StepContext.afterStep(step, null, Map.of("x", x), LR);
  }

  /**
   * One trainer-like step on the quadratic with optimum {@code target} (plus SI's own penalty when it has
   * a previous Omega): forward, backward, afterBackward, SGD, zero, afterOptimizerStep.
   */
  void step(SynapticIntelligence si, float[] target, long k) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray t = m.create(target);
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        NDArray d = x.data().sub(t);
        NDArray loss = d.mul(d).mul(w).sum();
        if (si.previous() != null) {
          loss = loss.add(si.loss(ctx(k)));
        }
        gc.backward(loss);
      }
      si.afterBackward(ctx(k));
      NDArray g = Grads.of(x.data());
      x.data().subi(g.mul(LR)); // plain SGD, outside the graph
      Grads.zero(x.data());
    }
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      si.afterOptimizerStep(ctx(k));
    }
  }

  @Test
  void omegaAndOmegaMatchTheFormulaOverTwoTasks() {
    double c = 0.5;
    SynapticIntelligence si = new SynapticIntelligence(new Anchors(Map.of("x", x)), c, XI, null);
    si.onTrainableChanged(java.util.Set.of("x"));
    // Task 1: optimum (1, -2). By hand: g = 2 w (x - t), x' = x - lr g, omega += -g (x' - x).
    double[] t1 = {1, -2};
    double[] wv = {A, B};
    double[] xs = {0, 0};
    double[] start = xs.clone();
    double[] omega = new double[2];
    for (int k = 0; k < 6; k++) {
      step(si, new float[] {1f, -2f}, k);
      for (int i = 0; i < 2; i++) {
        double g = 2 * wv[i] * (xs[i] - t1[i]);
        double next = xs[i] - LR * g;
        omega[i] += -g * (next - xs[i]);
        xs[i] = next;
      }
    }
    assertEquals(List.of("x"), si.tracked());
    assertClose(omega, si.omega().get("x"), 1e-5, "omega after task 1");
    double[] big = new double[2];
    for (int i = 0; i < 2; i++) {
      double delta = xs[i] - start[i];
      big[i] = omega[i] / (delta * delta + XI);
    }
    assertClose(big, si.consolidated().values("x"), 1e-5, "Omega after task 1");
    assertEquals(Importance.SI, si.consolidated().kind());
    assertEquals("6", si.consolidated().metadata().get("retain.steps"));
    // Without a previous Omega the penalty is zero.
    assertEquals(0.0, Support.eval(si, ctx(6), List.of(x)).value(), 0.0);

    // Task 2 (optimum (3, 0)), with the penalty c * sum Omega1 (x - x*)^2 around the end of task 1.
    si.consolidateAndReanchor();
    double[] anchor = xs.clone();
    double[] t2 = {3, 0};
    double[] omega2 = new double[2];
    for (int k = 0; k < 5; k++) {
      if (k == 2) {
        double want = 0;
        for (int i = 0; i < 2; i++) {
          want += c * big[i] * (xs[i] - anchor[i]) * (xs[i] - anchor[i]);
        }
        assertTrue(want > 0);
        assertClose(want, Support.eval(si, ctx(k), List.of(x)).value(), 1e-5, "SI penalty");
      }
      step(si, new float[] {3f, 0f}, 100 + k);
      for (int i = 0; i < 2; i++) {
        double gTask = 2 * wv[i] * (xs[i] - t2[i]);
        double gPenalty = 2 * c * big[i] * (xs[i] - anchor[i]);
        double next = xs[i] - LR * (gTask + gPenalty);
        omega2[i] += -gTask * (next - xs[i]); // the path integral uses the task gradient only
        xs[i] = next;
      }
    }
    assertClose(omega2, si.omega().get("x"), 1e-5, "omega after task 2");
    double[] big2 = new double[2];
    for (int i = 0; i < 2; i++) {
      double delta = xs[i] - anchor[i];
      big2[i] = big[i] + omega2[i] / (delta * delta + XI);
    }
    assertClose(big2, si.consolidated().values("x"), 1e-5, "Omega after task 2 (accumulated)");
    float[] now = x.data().toFloatArray();
    assertClose(xs, now, 1e-5, "the path itself");
    si.close();
  }

  @Test
  void stateAndRestoreContinueThePathIntegralExactly() {
    float[] t = {1f, -2f};
    SynapticIntelligence full = new SynapticIntelligence(new Anchors(Map.of("x", x)), 1, XI, null);
    full.onTrainableChanged(java.util.Set.of("x"));
    for (int k = 0; k < 6; k++) {
      step(full, t, k);
    }
    float[] wantOmega = full.omega().get("x");
    float[] wantBig = full.consolidated().values("x");
    full.close();

    x.data().set(new float[] {0f, 0f});
    // The resumed run: the term is created at the start (theta* = the start), killed after 3 steps...
    SynapticIntelligence first = new SynapticIntelligence(new Anchors(Map.of("x", x)), 1, XI, null);
    SynapticIntelligence resumed = new SynapticIntelligence(new Anchors(Map.of("x", x)), 1, XI, null);
    first.onTrainableChanged(java.util.Set.of("x"));
    resumed.onTrainableChanged(java.util.Set.of("x"));
    for (int k = 0; k < 3; k++) {
      step(first, t, k);
    }
    Map<String, float[]> saved = first.state();
    first.close();
    // ... and a new process restores the checkpoint's state and goes on.
    resumed.restore(saved);
    for (int k = 3; k < 6; k++) {
      step(resumed, t, k);
    }
    org.junit.jupiter.api.Assertions.assertArrayEquals(wantOmega, resumed.omega().get("x"));
    org.junit.jupiter.api.Assertions.assertArrayEquals(wantBig, resumed.consolidated().values("x"));
    assertEquals("6", resumed.consolidated().metadata().get("retain.steps"));
    assertNull(resumed.previous());
    resumed.close();
  }
}
