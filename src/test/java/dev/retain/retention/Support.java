package dev.retain.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small helpers for the retention tests. */
final class Support {
  private Support() {}

  /** A term's value and the gradients it gives the parameters listed (then zeroed). */
  record Eval(double value, Map<String, float[]> grads) {}

  static Eval eval(LossTerm term, StepContext ctx, List<Parameter> params) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      double value;
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        NDArray v = term.loss(ctx);
        value = v.getFloat();
        try {
          gc.backward(v);
        } catch (ai.djl.engine.EngineException e) {
          if (!String.valueOf(e.getMessage()).contains("does not require grad")) {
            throw e;
          }
          // a constant (nothing to penalise): no gradient
        }
      }
      return new Eval(value, takeGrads(params));
    }
  }

  /** Each parameter's gradient by name (null where it has none), then zeroed. */
  static Map<String, float[]> takeGrads(List<Parameter> params) {
    Map<String, float[]> g = new LinkedHashMap<>();
    for (Parameter p : params) {
      NDArray x = Grads.of(p.data());
      g.put(p.name(), x == null ? null : x.toFloatArray());
      Grads.zero(p.data());
    }
    return g;
  }

  static void assertClose(double want, double got, double rel, String what) {
    double tol = rel * Math.max(1e-3, Math.abs(want));
    assertEquals(want, got, tol, what);
  }

  static void assertClose(double[] want, float[] got, double rel, String what) {
    assertEquals(want.length, got.length, what + ": length");
    double scale = 1e-6;
    for (double w : want) {
      scale = Math.max(scale, Math.abs(w));
    }
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], rel * scale, what + "[" + i + "]");
    }
  }

  /** Sets a parameter's values in place (outside autograd). */
  static void set(Parameter p, float[] v) {
    p.data().set(v);
  }
}
