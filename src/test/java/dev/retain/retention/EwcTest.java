package dev.retain.retention;

import static dev.retain.retention.Support.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.Parameter;
import dev.retain.testutil.Tiny;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EWC's penalty and gradient, with plain and adapter drift, and online EWC, against hand computations. */
class EwcTest {
  static final String NORM = "model.norm.weight";
  static final String LN0 = "model.layers.0.input_layernorm.weight";
  static final String Q0 = "model.layers.0.self_attn.q_proj.weight";

  @TempDir Path tmp;

  static Importance importance(Map<String, float[]> values, Map<String, long[]> shapes) {
    return new Importance(values, shapes, Map.of(Importance.KIND, Importance.FISHER, Importance.SAMPLES, "3"));
  }

  static float[] ramp(int n, double a, double b) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (a + b * i);
    }
    return f;
  }

  @Test
  void penaltyAndGradientEqualHandComputation() {
    try (CausalLM model = Tiny.model(1)) {
      Parameter p = model.parameters().get(NORM);
      Parameter frozen = model.parameters().get(LN0);
      int n = (int) p.numel();
      float[] f = ramp(n, 0.05, 0.05);
      Importance fisher = importance(Map.of(NORM, f, LN0, ramp(n, 1, 0)), Map.of(NORM, new long[] {n}, LN0, new long[] {n}));
      p.setTrainable(true);
      double lambda = 3.0;
      try (Ewc ewc = new Ewc(model, fisher, lambda)) {
        ewc.onTrainableChanged(Set.of(NORM));
        float[] start = p.data().toFloatArray();
        float[] moved = start.clone();
        for (int i = 0; i < n; i++) {
          moved[i] += (float) (0.01 * ((i % 5) - 2) * (1 + i % 3));
        }
        Support.set(p, moved);
        // A frozen weight cannot drift in training; even if it is changed behind the term's back it is skipped.
        float[] fz = frozen.data().toFloatArray();
        for (int i = 0; i < n; i++) {
          fz[i] += 0.5f;
        }
        Support.set(frozen, fz);
        Support.Eval e = Support.eval(ewc, null, List.of(p));
        double want = 0;
        double[] grad = new double[n];
        for (int i = 0; i < n; i++) {
          double d = (double) moved[i] - start[i];
          want += lambda / 2 * f[i] * d * d;
          grad[i] = lambda * f[i] * d;
        }
        assertTrue(want > 0);
        assertClose(want, e.value(), 1e-5, "EWC penalty");
        assertClose(grad, e.grads().get(NORM), 1e-5, "EWC gradient");
      }
      p.setTrainable(false);
    }
  }

  @Test
  void penaltyIsZeroAtTheStartAndForFrozenWeights() {
    try (CausalLM model = Tiny.model(1)) {
      Parameter p = model.parameters().get(NORM);
      int n = (int) p.numel();
      Importance fisher = importance(Map.of(NORM, ramp(n, 1, 0)), Map.of(NORM, new long[] {n}));
      try (Ewc ewc = new Ewc(model, fisher, 10)) {
        p.setTrainable(true);
        ewc.onTrainableChanged(Set.of(NORM));
        assertEquals(0.0, Support.eval(ewc, null, List.of(p)).value(), 0.0);
        p.setTrainable(false);
        assertEquals(0.0, Support.eval(ewc, null, List.of()).value(), 0.0);
      }
    }
  }

  @Test
  void adapterDriftIsPenalisedWithTheBaseWeightsFisher() {
    try (CausalLM model = Tiny.model(2)) {
      Linear q = model.layers.get(0).qProj;
      float s = 2f;
      TestLoRA lora = TestLoRA.attach(q, 3, s, 0.3, 0.2, 11);
      lora.a.setTrainable(true);
      lora.b.setTrainable(true);
      int out = (int) q.outFeatures();
      int in = (int) q.inFeatures();
      int r = 3;
      float[] f = ramp(out * in, 0.5, 0.001);
      Importance fisher = importance(Map.of(Q0, f), Map.of(Q0, new long[] {out, in}));
      double lambda = 0.7;
      try (Ewc ewc = new Ewc(model, fisher, lambda)) {
        ewc.onTrainableChanged(Set.of(lora.a.name(), lora.b.name()));
        float[] a = lora.a.data().toFloatArray();
        float[] b = lora.b.data().toFloatArray();
        double[] dw = new double[out * in];
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < in; i++) {
            double acc = 0;
            for (int k = 0; k < r; k++) {
              acc += b[o * r + k] * a[k * in + i];
            }
            dw[o * in + i] = s * acc;
          }
        }
        double want = 0;
        double[] g = new double[out * in]; // dP/d(deltaW) = lambda F deltaW
        for (int i = 0; i < dw.length; i++) {
          want += lambda / 2 * f[i] * dw[i] * dw[i];
          g[i] = lambda * f[i] * dw[i];
        }
        double[] gb = new double[out * r]; // dP/dB = s G A^T
        double[] ga = new double[r * in]; // dP/dA = s B^T G
        for (int o = 0; o < out; o++) {
          for (int k = 0; k < r; k++) {
            for (int i = 0; i < in; i++) {
              gb[o * r + k] += s * g[o * in + i] * a[k * in + i];
              ga[k * in + i] += s * b[o * r + k] * g[o * in + i];
            }
          }
        }
        Support.Eval e = Support.eval(ewc, null, List.of(lora.a, lora.b, q.weight));
        assertTrue(want > 0);
        assertClose(want, e.value(), 1e-5, "EWC penalty on deltaWeight");
        assertClose(gb, e.grads().get(lora.b.name()), 1e-4, "dP/dB");
        assertClose(ga, e.grads().get(lora.a.name()), 1e-4, "dP/dA");

        // The base weight trains too: the drift is (W - W*) + deltaWeight.
        q.weight.setTrainable(true);
        ewc.onTrainableChanged(Set.of(Q0, lora.a.name(), lora.b.name()));
        float[] w0 = q.weight.data().toFloatArray();
        float[] w1 = w0.clone();
        for (int i = 0; i < w1.length; i++) {
          w1[i] += (float) (0.003 * ((i % 7) - 3));
        }
        Support.set(q.weight, w1);
        double want2 = 0;
        double[] gw = new double[w1.length];
        for (int i = 0; i < w1.length; i++) {
          double d = (double) w1[i] - w0[i] + dw[i];
          want2 += lambda / 2 * f[i] * d * d;
          gw[i] = lambda * f[i] * d;
        }
        Support.Eval e2 = Support.eval(ewc, null, List.of(lora.a, lora.b, q.weight));
        assertClose(want2, e2.value(), 1e-5, "EWC penalty on (W - W*) + deltaWeight");
        assertClose(gw, e2.grads().get(Q0), 1e-4, "dP/dW");
        q.weight.setTrainable(false);

        // Adapters off: the adapted model is the base model, nothing to penalise.
        lora.setEnabled(false);
        assertEquals(0.0, Support.eval(ewc, null, List.of()).value(), 0.0);
      }
    }
  }

  @Test
  void onlineMergeIsGammaTimesOldPlusNew() {
    Map<String, float[]> va = new LinkedHashMap<>();
    va.put("x", new float[] {1, 2});
    va.put("y", new float[] {3});
    Map<String, float[]> vb = new LinkedHashMap<>();
    vb.put("x", new float[] {10, 20});
    vb.put("z", new float[] {5, 6, 7});
    Importance a = importance(va, Map.of("x", new long[] {2}, "y", new long[] {1}));
    Importance b = importance(vb, Map.of("x", new long[] {2}, "z", new long[] {3}));
    Importance m = a.online(b, 0.5);
    assertArrayEquals(new float[] {10.5f, 21f}, m.values("x"));
    assertArrayEquals(new float[] {1.5f}, m.values("y"));
    assertArrayEquals(new float[] {5, 6, 7}, m.values("z"));
    assertTrue(m.metadata().get("retain.online").contains("0.5"));
    Importance bad = importance(Map.of("x", new float[] {1, 2, 3}), Map.of("x", new long[] {3}));
    assertThrows(IllegalArgumentException.class, () -> a.online(bad, 0.9));
  }

  @Test
  void foldInChangesThePenaltyToGammaFPlusFNew() {
    try (CausalLM model = Tiny.model(3)) {
      Parameter p = model.parameters().get(NORM);
      int n = (int) p.numel();
      float[] f = ramp(n, 0.2, 0.01);
      float[] fNew = ramp(n, 1.0, -0.02);
      long[] shape = {n};
      p.setTrainable(true);
      try (Ewc ewc = new Ewc(model, importance(Map.of(NORM, f), Map.of(NORM, shape)), 2.0, 0.25)) {
        ewc.onTrainableChanged(Set.of(NORM));
        float[] start = p.data().toFloatArray();
        float[] moved = start.clone();
        for (int i = 0; i < n; i++) {
          moved[i] += 0.02f * (i % 4);
        }
        Support.set(p, moved);
        ewc.foldIn(importance(Map.of(NORM, fNew), Map.of(NORM, shape)));
        double want = 0;
        for (int i = 0; i < n; i++) {
          double d = (double) moved[i] - start[i];
          want += 2.0 / 2 * (0.25 * f[i] + fNew[i]) * d * d;
        }
        assertClose(want, Support.eval(ewc, null, List.of(p)).value(), 1e-5, "online EWC penalty");
        // A new task starts here: no drift yet.
        ewc.reanchor();
        assertEquals(0.0, Support.eval(ewc, null, List.of(p)).value(), 0.0);
      }
      p.setTrainable(false);
    }
  }

  @Test
  void fileRoundTripAndChecksAgainstTheModel() throws Exception {
    try (CausalLM model = Tiny.model(1)) {
      int n = (int) model.parameters().get(NORM).numel();
      Map<String, String> meta = Map.of(Importance.KIND, Importance.FISHER, Importance.SAMPLES, "7", "retain.model", "m");
      Importance f = new Importance(Map.of(NORM, ramp(n, 0.1, 0.1)), Map.of(NORM, new long[] {n}), meta);
      Path file = tmp.resolve("f.safetensors");
      f.save(file);
      Importance g = Importance.load(file);
      assertEquals(f.names(), g.names());
      assertArrayEquals(f.values(NORM), g.values(NORM));
      assertArrayEquals(new long[] {n}, g.shape(NORM));
      assertEquals(7, g.samples());
      assertEquals(Importance.FISHER, g.kind());
      assertEquals("m", g.metadata().get("retain.model"));
      Importance wrongShape = importance(Map.of(NORM, new float[n + 1]), Map.of(NORM, new long[] {n + 1}));
      IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class, () -> new Ewc(model, wrongShape, 1));
      assertTrue(e1.getMessage().contains(NORM), e1.getMessage());
      Importance unknown = importance(Map.of("nope.weight", new float[1]), Map.of("nope.weight", new long[] {1}));
      assertThrows(IllegalArgumentException.class, () -> new Ewc(model, unknown, 1));
      assertThrows(IllegalArgumentException.class, () -> new Ewc(model, f, -1));
    }
  }
}
