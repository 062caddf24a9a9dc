package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OptimizerAndScheduleTest {
  @Test
  void adamWTwoStepsMatchAHandComputation() {
    try (NDManager m = Backend.newManager()) {
      Parameter p = new Parameter("w", m.create(new float[] {1f, -2f}));
      AdamW opt = new AdamW(0.9, 0.999, 1e-8);
      AdamW.Group g = new AdamW.Group(1.0, 0.01);
      opt.step(p, m.create(new float[] {0.5f, 0.1f}), 0.1, g);
      // Step 1: bias-corrected m/sqrt(v) = g/|g| = 1, so w = w (1 - 0.1*0.01) - 0.1.
      float[] w1 = p.data().toFloatArray();
      assertEquals(0.899, w1[0], 1e-6);
      assertEquals(-2.098, w1[1], 1e-6);
      opt.step(p, m.create(new float[] {-0.5f, 0.3f}), 0.1, g);
      // Step 2 by hand: m = [-0.005, 0.039], v = [0.00049975, 0.00009999], bc1 = 0.19, bc2 = 0.001999.
      float[] w2 = p.data().toFloatArray();
      double u0 = (-0.005 / 0.19) / (Math.sqrt(0.00049975 / 0.001999) + 1e-8);
      double u1 = (0.039 / 0.19) / (Math.sqrt(0.00009999 / 0.001999) + 1e-8);
      assertEquals(0.899 * 0.999 - 0.1 * u0, w2[0], 1e-5);
      assertEquals(-2.098 * 0.999 - 0.1 * u1, w2[1], 1e-5);
      assertEquals(0.903364, w2[0], 1e-5);
      assertEquals(2, opt.state().get("w").t());
    }
  }

  @Test
  void fusedLoopAndTensorOperationsAgree() {
    // A transposed view is not contiguous, so AdamW takes the tensor path for it; the same values
    // stored contiguously take the fused loop. Both must give the same weights and moments.
    try (NDManager m = Backend.newManager()) {
      java.util.Random r = new java.util.Random(7);
      int rows = 300;
      int cols = 500; // 150,000 elements: several parallel chunks
      float[] w0 = new float[rows * cols];
      for (int i = 0; i < w0.length; i++) {
        w0[i] = (float) r.nextGaussian() * 0.02f;
      }
      Parameter strided = new Parameter("strided", m.create(w0, new ai.djl.ndarray.types.Shape(cols, rows)).transpose());
      Parameter dense = new Parameter("dense", m.create(strided.data().toFloatArray(), strided.data().getShape()));
      assertTrue(!AdamW.addressable(strided.data()), "a transposed view is not addressable");
      assertTrue(AdamW.addressable(dense.data()), "a contiguous tensor is addressable");
      AdamW opt = new AdamW(0.9, 0.999, 1e-8);
      AdamW.Group g = new AdamW.Group(1.0, 0.01);
      for (int step = 0; step < 3; step++) {
        float[] grad = new float[rows * cols];
        for (int i = 0; i < grad.length; i++) {
          grad[i] = (float) r.nextGaussian();
        }
        opt.step(strided, m.create(grad, new ai.djl.ndarray.types.Shape(rows, cols)), 1e-3, g);
        opt.step(dense, m.create(grad, new ai.djl.ndarray.types.Shape(rows, cols)), 1e-3, g);
      }
      assertTrue(!opt.state().get("strided").fused && opt.state().get("dense").fused);
      // Weights of about 0.02 (one ulp 1.9e-9): libtorch's vector kernels round a few results differently.
      assertClose(strided.data().toFloatArray(), dense.data().toFloatArray(), 1e-8f);
      assertClose(opt.state().get("strided").m().toFloatArray(), opt.state().get("dense").m().toFloatArray(), 0f);
      assertClose(opt.state().get("strided").v().toFloatArray(), opt.state().get("dense").v().toFloatArray(), 0f);
      // A parameter given a new tensor is probed again: a contiguous copy of the strided one is fused now.
      strided.set(m.create(strided.data().toFloatArray(), strided.data().getShape()));
      opt.step(strided, m.create(new float[rows * cols], new ai.djl.ndarray.types.Shape(rows, cols)), 1e-3, g);
      assertTrue(opt.state().get("strided").fused);
    }
  }

  /** Equal within {@code tol} (0 = bit for bit). */
  private static void assertClose(float[] a, float[] b, float tol) {
    assertEquals(a.length, b.length);
    for (int i = 0; i < a.length; i++) {
      assertTrue(Math.abs(a[i] - b[i]) <= tol, i + ": " + a[i] + " vs " + b[i]);
    }
  }

  @Test
  void noDecayGroupAndLrScale() {
    try (NDManager m = Backend.newManager()) {
      Parameter p = new Parameter("b", m.create(new float[] {1f}));
      AdamW opt = new AdamW(0.9, 0.999, 1e-8);
      opt.step(p, m.create(new float[] {2f}), 0.1, new AdamW.Group(0.5, 0.0));
      assertEquals(1 - 0.05, p.data().toFloatArray()[0], 1e-6);
    }
  }

  @Test
  void scheduleValuesAtChosenSteps() {
    LrSchedule cos = new LrSchedule(LrSchedule.Kind.COSINE, 10, 110, 0.1);
    assertEquals(0.1, cos.factor(0), 1e-12);
    assertEquals(1.0, cos.factor(9), 1e-12);
    assertEquals(1.0, cos.factor(10), 1e-12);
    // Halfway through the 99 decay steps: 0.1 + 0.9 * 0.5 * (1 + cos(pi/2)) = 0.55.
    assertEquals(0.55, cos.factor(10 + 99 / 2) , 0.01);
    assertEquals(0.1, cos.factor(109), 1e-12);
    LrSchedule lin = new LrSchedule(LrSchedule.Kind.LINEAR, 0, 11, 0.0);
    assertEquals(1.0, lin.factor(0), 1e-12);
    assertEquals(0.5, lin.factor(5), 1e-12);
    assertEquals(0.0, lin.factor(10), 1e-12);
    LrSchedule constant = new LrSchedule(LrSchedule.Kind.CONSTANT, 4, 100, 0.0);
    assertEquals(0.5, constant.factor(1), 1e-12);
    assertEquals(1.0, constant.factor(50), 1e-12);
  }

  @Test
  void selectorsPickExactlyTheNamedParameters() {
    List<String> names = List.of("model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight",
        "model.layers.1.self_attn.q_proj.weight", "model.layers.2.input_layernorm.weight", "model.norm.weight",
        "lm_head.weight", "model.layers.2.self_attn.q_proj.lora_A.weight");
    Set<String> adapters = Set.of("model.layers.2.self_attn.q_proj.lora_A.weight");
    assertEquals(Set.of("model.layers.1.self_attn.q_proj.weight", "model.layers.2.input_layernorm.weight", "lm_head.weight"),
        ParamSelector.parse("top:2+head").select(names, adapters, 3, false));
    assertEquals(adapters, ParamSelector.parse("lora").select(names, adapters, 3, false));
    assertEquals(7, ParamSelector.parse("all").select(names, adapters, 3, false).size());
    assertEquals(Set.of("model.layers.0.mlp.up_proj.weight"), ParamSelector.parse("regex:mlp\\.").select(names, adapters, 3, false));
    assertEquals(Set.of("model.embed_tokens.weight"), ParamSelector.parse("head").select(
        List.of("model.embed_tokens.weight", "model.norm.weight"), Set.of(), 3, true));
    assertEquals(Set.of(), ParamSelector.parse("top:5").select(List.of("model.norm.weight"), Set.of(), 3, false));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ParamSelector.parse("top:x")).getMessage().contains("top:x"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ParamSelector.parse("heads")).getMessage().contains("unknown term 'heads'"));
  }
}
