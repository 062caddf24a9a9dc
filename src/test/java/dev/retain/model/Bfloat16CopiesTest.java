package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.retain.tensor.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A model's pass on bfloat16 copies of its linear weights, against the numpy reference in float64
 * (tools/arch_vectors.py): close to it, not equal, and the model is back on float32 afterwards.
 */
class Bfloat16CopiesTest {

  /** gqa: an untied head and grouped queries; tied: the head is the embedding; qwen2: biases on q, k, v. */
  @ParameterizedTest
  @ValueSource(strings = {"gqa", "tied", "qwen2"})
  void logitsStayCloseToTheNumpyReference(String variant) throws Exception {
    ArchFixture fx = ArchFixture.load(variant);
    float[] want = fx.logits();
    try (CausalLM model = ModelLoader.load(fx.dir()); NDManager m = model.manager().newSubManager();
        Bfloat16Copies copies = Bfloat16Copies.of(model)) {
      assertEquals(model.linears().size() + 1, copies.size(), "every projection and the head");
      NDArray input = m.create(fx.ids(), new Shape(2, fx.ids().length / 2));
      float[] before = model.logits(input).toFloatArray();
      float[] low = copies.run(() -> model.logits(input)).toFloatArray();
      float[] after = model.logits(input).toFloatArray();
      assertArrayEquals(before, after, "float32 again after the run");

      double spread = 0;
      double errFloat32 = 0;
      double errBfloat16 = 0;
      for (int i = 0; i < want.length; i++) {
        spread = Math.max(spread, Math.abs(want[i]));
        errFloat32 = Math.max(errFloat32, Math.abs(before[i] - want[i]));
        errBfloat16 = Math.max(errBfloat16, Math.abs(low[i] - want[i]));
      }
      assertTrue(errFloat32 < 1e-4 * Math.max(1, spread), "float32: " + errFloat32);
      assertTrue(errBfloat16 > 10 * errFloat32, "the run used the bfloat16 copies: " + errBfloat16);
      // Measured: 0.68% (gqa), 0.40% (tied), 0.41% (qwen2) of the largest logit.
      assertTrue(errBfloat16 < 0.008 * spread, "bfloat16 logits within 0.8% of the largest: " + errBfloat16 + " of " + spread);
    }
  }

  /** Each pass's results (the module's outputs among them) close with the pass's scope: nothing piles up. */
  @Test
  void repeatedPassesLeaveNoArraysOpen() {
    try (CausalLM model = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(64, 32, 64, 2, 4, 2), "t"), 4, 0.1);
        NDManager m = model.manager().newSubManager(); Bfloat16Copies copies = Bfloat16Copies.of(model)) {
      NDArray input = m.create(new long[] {1, 5, 9, 12, 3, 7}, new Shape(2, 3));
      boolean was = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try {
        int[] open = new int[2];
        for (int i = 0; i < 20; i++) {
          try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            copies.run(() -> model.logits(input)).toFloatArray();
          }
          if (i == 1) {
            open[0] = m.getManagedArrays().size();
            open[1] = model.manager().getManagedArrays().size();
          }
        }
        assertEquals(open[0], m.getManagedArrays().size(), "arrays open in the inputs' manager");
        assertEquals(open[1], model.manager().getManagedArrays().size(), "arrays open in the model's manager");
        assertEquals(1, open[0], "only the input");
      } finally {
        JniUtils.setGradMode(was);
      }
    }
  }

  /**
   * A frozen teacher whose weights the copies replace computes exactly what the switchable copies of
   * an identical model compute; its float32 linear weights are gone (a tied head's stays, the lookup
   * reads it), and once the copies close the float32 path refuses to run instead of reading zeros.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gqa", "tied"})
  void replacingAFrozenModelsWeightsGivesTheSameLogitsAndFreesFloat32(String variant) throws Exception {
    ArchFixture fx = ArchFixture.load(variant);
    try (CausalLM a = ModelLoader.load(fx.dir()); CausalLM b = ModelLoader.load(fx.dir());
        NDManager m = a.manager().newSubManager(); Bfloat16Copies switchable = Bfloat16Copies.of(a)) {
      NDArray input = m.create(fx.ids(), new Shape(2, fx.ids().length / 2));
      float[] embedding = b.embedTokens.data().toFloatArray();
      boolean was = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try {
        float[] want = switchable.run(() -> a.logits(input)).toFloatArray();
        java.util.Map<Linear, NDArray> before = new java.util.LinkedHashMap<>();
        b.linearsWithHead().forEach(lin -> before.put(lin, lin.weight.data()));
        Bfloat16Copies replacing = Bfloat16Copies.replacing(b);
        before.forEach((lin, old) -> assertEquals(lin.weight != b.embedTokens, old.isReleased(),
            lin.name + ": float32 weight freed unless it is the tied embedding"));
        NDArray inputB = b.manager().create(fx.ids(), new Shape(2, fx.ids().length / 2));
        assertArrayEquals(want, b.logits(inputB).toFloatArray(), "the same bfloat16 pass");
        Linear q = b.layers.get(0).qProj;
        assertEquals(a.layers.get(0).qProj.weight.data().getShape(), q.weight.data().getShape(), "shapes still read right");
        assertEquals(0f, q.weight.data().abs().sum().getFloat(), 0f, "the float32 weight is gone");
        assertArrayEquals(embedding, b.embedTokens.data().toFloatArray(), "the embedding stays");
        replacing.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.logits(inputB));
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
      } finally {
        JniUtils.setGradMode(was);
      }
    }
  }

  @Test
  void replacingRefusesAModelThatTrainsOrHasAdapters() {
    try (CausalLM model = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(64, 32, 64, 2, 4, 2), "t"), 6, 0.1)) {
      model.norm.setTrainable(true);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bfloat16Copies.replacing(model));
      assertTrue(e.getMessage().contains("model.norm.weight"), e.getMessage());
      model.norm.setTrainable(false);
      dev.retain.peft.lora.Lora.apply(model, dev.retain.peft.lora.LoraConfig.defaults(), 5, null);
      model.allParameters().values().forEach(p -> p.setTrainable(false));
      e = assertThrows(IllegalArgumentException.class, () -> Bfloat16Copies.replacing(model));
      assertTrue(e.getMessage().contains("q_proj has one"), e.getMessage());
    }
  }

  /**
   * A recorded pass on the copies trains what trains around them (here the final norm, as an adapter
   * would): its gradient is the float32 pass's within a few percent (bfloat16 rounding). A linear weight that trains
   * is refused, recorded or not, since its copy would get no gradient, and the model is float32 again afterwards.
   */
  @Test
  void aRecordedPassReachesWhatTrainsAroundFrozenCopiesAndRefusesATrainingLinear() {
    try (CausalLM model = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(64, 32, 64, 2, 4, 2), "t"), 3, 0.1);
        NDManager m = model.manager().newSubManager(); Bfloat16Copies copies = Bfloat16Copies.of(model)) {
      NDArray input = m.create(new long[] {1, 5, 9, 12, 40, 7}, new Shape(1, 6));
      model.norm.setTrainable(true);
      float[] want = normGradient(model, () -> model.logits(input));
      float[] got = normGradient(model, () -> copies.run(() -> model.logits(input)));
      double largest = 0;
      double err = 0;
      for (int i = 0; i < want.length; i++) {
        largest = Math.max(largest, Math.abs(want[i]));
        err = Math.max(err, Math.abs(got[i] - want[i]));
      }
      assertTrue(largest > 0 && err > 0, "a gradient, and from the copies: " + err);
      // Measured: 1.6% of the largest entry (the logits squared double the rounding).
      assertTrue(err < 0.04 * largest, "within 4% of the largest entry: " + err + " of " + largest);

      float[] before = model.logits(input).toFloatArray();
      model.layers.get(1).qProj.weight.setTrainable(true);
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> copies.run(() -> model.logits(input)));
        assertTrue(e.getMessage().contains("model.layers.1.self_attn.q_proj") && e.getMessage().contains("frozen"),
            e.getMessage());
      }
      assertArrayEquals(before, model.logits(input).toFloatArray(), "float32 again after the refusal");
      // A teacher's pass (no recording) on such a copy would be stale just the same.
      assertThrows(IllegalStateException.class, () -> copies.run(() -> model.logits(input)));
    }
  }

  /** A weight replaced after the copies were taken (as a LoRA merge does) makes them stale: refused. */
  @Test
  void refusesAPassOnCopiesOfAReplacedWeight() {
    try (CausalLM model = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(64, 32, 64, 2, 4, 2), "t"), 3, 0.1);
        NDManager m = model.manager().newSubManager(); Bfloat16Copies copies = Bfloat16Copies.of(model)) {
      NDArray input = m.create(new long[] {1, 5, 9, 12}, new Shape(1, 4));
      copies.run(() -> model.logits(input));
      Parameter w = model.layers.get(0).vProj.weight;
      NDArray fresh = model.manager().create(w.data().toFloatArray(), w.data().getShape());
      NDScope.unregister(fresh);
      w.set(fresh);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> copies.run(() -> model.logits(input)));
      assertTrue(e.getMessage().contains("model.layers.0.self_attn.v_proj") && e.getMessage().contains("replaced"),
          e.getMessage());
    }
  }

  private static float[] normGradient(CausalLM model, java.util.function.Supplier<NDArray> pass) {
    try (NDScope scope = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
      scope.suppressNotUsedWarning();
      NDArray logits = pass.get();
      gc.backward(logits.mul(logits).sum());
      float[] g = model.norm.data().getGradient().toFloatArray();
      model.norm.data().getGradient().subi(model.norm.data().getGradient());
      return g;
    }
  }
}
