package dev.retain.retention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.retain.data.Example;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.testutil.Tiny;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Fisher file equals the mean of squared per-sequence gradients computed directly. */
class FisherTest {
  static List<Example> examples() {
    return List.of(
        new Example(new int[] {1, 40, 41, 42, 43, 2}, new boolean[] {false, true, true, true, true, true}),
        new Example(new int[] {1, 50, 60, 70, 2}, new boolean[] {false, false, false, true, true}),
        new Example(new int[] {1, 100, 101, 102, 103, 104, 105, 2}, new boolean[] {false, true, false, true, false, true, true, true}),
        new Example(new int[] {1, 200, 2}, new boolean[] {false, true, true}));
  }

  /** Per-sequence squared gradients of log p(x), averaged in Java, with an independent loss. */
  static Map<String, double[]> direct(CausalLM model, List<Example> examples, Set<String> names) {
    Map<String, double[]> sums = new LinkedHashMap<>();
    NDManager m = model.manager();
    for (String n : names) {
      model.allParameters().get(n).setTrainable(true);
    }
    for (Example ex : examples) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        int t = ex.length() - 1;
        long[] in = new long[t];
        for (int i = 0; i < t; i++) {
          in[i] = ex.id(i);
        }
        try (GradientCollector gc = Backend.engine().newGradientCollector()) {
          NDArray logp = model.forward(m.create(in, new Shape(1, t)), null, null, null, false).logits().logSoftmax(-1);
          NDArray total = null;
          for (int i = 0; i < t; i++) {
            if (ex.isTarget(i + 1)) {
              NDArray lp = logp.get(0, i, ex.id(i + 1));
              total = total == null ? lp : total.add(lp);
            }
          }
          gc.backward(total); // d log p(x) / d theta
        }
        for (String n : names) {
          Parameter p = model.allParameters().get(n);
          float[] g = Grads.of(p.data()).toFloatArray();
          double[] s = sums.computeIfAbsent(n, k -> new double[g.length]);
          for (int i = 0; i < g.length; i++) {
            s[i] += (double) g[i] * g[i] / examples.size();
          }
          Grads.zero(p.data());
        }
      }
    }
    for (String n : names) {
      model.allParameters().get(n).setTrainable(false);
    }
    return sums;
  }

  @Test
  void fisherIsTheMeanOfSquaredPerSequenceGradients() {
    try (CausalLM model = Tiny.model(4)) {
      Map<String, float[]> before = new LinkedHashMap<>();
      model.parameters().forEach((k, v) -> before.put(k, v.data().toFloatArray()));
      Parameter norm = model.parameters().get("model.norm.weight");
      norm.setTrainable(true); // a trainable flag is restored afterwards
      Importance f = Importance.fisher(model, examples());
      assertTrue(norm.trainable());
      norm.setTrainable(false);
      assertEquals(model.parameters().keySet(), f.names());
      assertEquals(4, f.samples());
      assertEquals(Importance.FISHER, f.kind());
      assertEquals("14", f.metadata().get("retain.target_tokens")); // 5 + 2 + 5 + 2
      model.parameters().forEach((k, v) -> assertArrayEquals(before.get(k), v.data().toFloatArray(), k + " changed"));
      Map<String, double[]> want = direct(model, examples(), model.parameters().keySet());
      for (String n : f.names()) {
        double[] w = want.get(n);
        float[] got = f.values(n);
        double scale = 0;
        for (double x : w) {
          scale = Math.max(scale, x);
        }
        assertTrue(scale > 0, n + " has zero Fisher");
        for (int i = 0; i < w.length; i++) {
          assertEquals(w[i], got[i], 1e-4 * scale + 1e-12, n + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void fisherIsTakenOnTheBaseModelWithAdaptersOff() {
    Set<String> names = Set.of("model.layers.1.mlp.down_proj.weight", "lm_head.weight");
    Importance base;
    try (CausalLM model = Tiny.model(5)) {
      base = Importance.fisher(model, examples(), new Importance.FisherOptions().parameters(names));
    }
    try (CausalLM model = Tiny.model(5)) {
      TestLoRA lora = TestLoRA.attach(model.layers.get(1).downProj, 2, 4f, 0.5, 0.5, 3);
      lora.a.setTrainable(true);
      Importance off = Importance.fisher(model, examples(), new Importance.FisherOptions().parameters(names));
      Importance on = Importance.fisher(model, examples(), new Importance.FisherOptions().parameters(names).adaptersOn(true));
      assertTrue(lora.enabled(), "adapter switched back on");
      assertTrue(lora.a.trainable() && !lora.b.trainable(), "trainable flags restored");
      float[] ga = Grads.of(lora.a.data()) == null ? new float[0] : Grads.of(lora.a.data()).toFloatArray();
      for (float x : ga) {
        assertEquals(0f, x, 0f, "no gradient left behind");
      }
      assertEquals(names, off.names());
      for (String n : names) {
        float[] a = base.values(n);
        float[] b = off.values(n);
        for (int i = 0; i < a.length; i++) {
          assertEquals(a[i], b[i], 1e-6 * Math.max(1e-6, Math.abs(a[i])), n);
        }
      }
      assertEquals("off", off.metadata().get("retain.adapters"));
      assertEquals("on", on.metadata().get("retain.adapters"));
      assertFalse(java.util.Arrays.equals(off.values("lm_head.weight"), on.values("lm_head.weight")));
      assertNotEquals(0, on.total());
    }
  }
}
