package dev.retain.retention;

import static dev.retain.retention.Support.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.Parameter;
import dev.retain.testutil.Tiny;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** L2-SP: (alpha/2) sum (theta - theta*)^2 and its gradient alpha (theta - theta*), by hand. */
class L2SPTest {
  @Test
  void valueAndGradientEqualHandComputation() {
    try (CausalLM model = Tiny.model(6)) {
      Parameter norm = model.parameters().get("model.norm.weight");
      Parameter up = model.parameters().get("model.layers.1.mlp.up_proj.weight");
      Linear q = model.layers.get(0).qProj;
      TestLoRA lora = TestLoRA.attach(q, 2, 0.5f, 0.4, 0.3, 9);
      for (Parameter p : List.of(norm, up, lora.a, lora.b)) {
        p.setTrainable(true);
      }
      double alpha = 0.8;
      try (L2SP l2 = new L2SP(model, alpha)) {
        l2.onTrainableChanged(Set.of(norm.name(), up.name(), lora.a.name(), lora.b.name()));
        float[] n0 = norm.data().toFloatArray();
        float[] u0 = up.data().toFloatArray();
        float[] n1 = n0.clone();
        float[] u1 = u0.clone();
        for (int i = 0; i < n1.length; i++) {
          n1[i] += 0.01f * (i % 3 - 1);
        }
        for (int i = 0; i < u1.length; i++) {
          u1[i] -= 0.002f * (i % 5);
        }
        Support.set(norm, n1);
        Support.set(up, u1);
        double want = 0;
        double[] gn = new double[n1.length];
        double[] gu = new double[u1.length];
        for (int i = 0; i < n1.length; i++) {
          double d = (double) n1[i] - n0[i];
          want += alpha / 2 * d * d;
          gn[i] = alpha * d;
        }
        for (int i = 0; i < u1.length; i++) {
          double d = (double) u1[i] - u0[i];
          want += alpha / 2 * d * d;
          gu[i] = alpha * d;
        }
        // LoRA: its effective drift s B A counts (F = 1), not A and B themselves.
        float[] a = lora.a.data().toFloatArray();
        float[] b = lora.b.data().toFloatArray();
        int in = (int) q.inFeatures();
        int out = (int) q.outFeatures();
        double[] gb = new double[out * 2];
        for (int o = 0; o < out; o++) {
          for (int i = 0; i < in; i++) {
            double dw = 0.5 * (b[o * 2] * a[i] + b[o * 2 + 1] * a[in + i]);
            want += alpha / 2 * dw * dw;
            for (int k = 0; k < 2; k++) {
              gb[o * 2 + k] += 0.5 * alpha * dw * a[k * in + i];
            }
          }
        }
        Support.Eval e = Support.eval(l2, null, List.of(norm, up, lora.a, lora.b));
        assertTrue(want > 0);
        assertClose(want, e.value(), 1e-5, "L2-SP value");
        assertClose(gn, e.grads().get(norm.name()), 1e-5, "gradient of the norm weight");
        assertClose(gu, e.grads().get(up.name()), 1e-5, "gradient of up_proj");
        assertClose(gb, e.grads().get(lora.b.name()), 1e-4, "gradient of LoRA B");

        l2.reanchor();
        lora.setEnabled(false);
        assertEquals(0.0, Support.eval(l2, null, List.of(norm, up)).value(), 0.0);
      }
      assertThrows(IllegalArgumentException.class, () -> new L2SP(model, Double.NaN));
    }
  }
}
