package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Host;
import dev.retain.testutil.Tiny;
import org.junit.jupiter.api.Test;

/**
 * Each decoder layer runs in its own scope and only its output outlives it, with autograd or
 * without: counted as the arrays left open in the inputs' manager, where every result of the pass
 * lands. With autograd the backward still has what it needs (libtorch keeps the tensors it saved):
 * the gradients agree with central finite differences of the loss (and LoRA's with PEFT's, in
 * LoraReferenceTest, through the same closed scopes).
 */
class ForwardMemoryTest {

  @Test
  void eachLayerFreesItsTemporariesWithAndWithoutAutograd() {
    ModelConfig c = Tiny.config(64);
    try (CausalLM model = ModelLoader.random(c, 3, 0.02); NDManager m = model.manager().newSubManager()) {
      NDArray input = Host.of(m, ids(), new Shape(2, 6));
      int before = m.getManagedArrays().size();
      float[] noGrad;
      int openNoGrad;
      // grad mode is thread-local (off on the engine's thread, on elsewhere): switch it off explicitly
      boolean was = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        noGrad = model.forward(input, null, null, null, false).logits().toFloatArray();
        openNoGrad = m.getManagedArrays().size() - before;
      } finally {
        JniUtils.setGradMode(was);
      }
      float[] withGrad;
      int openWithGrad;
      model.parameters().values().forEach(p -> p.setTrainable(true));
      try (NDScope scope = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
        scope.suppressNotUsedWarning();
        NDArray logits = model.forward(input, null, null, null, false).logits();
        openWithGrad = m.getManagedArrays().size() - before;
        withGrad = logits.toFloatArray();
      }
      assertArrayEquals(withGrad, noGrad, "the same pass either way");
      int layers = c.numLayers;
      // Outside the layers: positions, mask, rotary tables, embedding, final norm, head (a handful);
      // inside: one output per layer.
      assertTrue(openNoGrad <= layers + 20, openNoGrad + " arrays open after a no-grad pass of " + layers + " layers");
      assertEquals(openNoGrad, openWithGrad, "autograd keeps its saved tensors itself, not through open arrays");
    }
  }

  @Test
  void gradientsThroughClosedLayerScopesMatchFiniteDifferences() {
    ModelConfig c = Tiny.config(64);
    try (CausalLM model = ModelLoader.random(c, 5, 0.2)) {
      model.parameters().values().forEach(p -> p.setTrainable(true));
      String[] names = {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.gate_proj.weight",
          "model.layers.1.self_attn.v_proj.weight", "model.layers.1.post_attention_layernorm.weight"};
      float[][] analytic = new float[names.length][];
      try (NDManager m = model.manager().newSubManager(); NDScope scope = new NDScope();
          GradientCollector gc = Backend.engine().newGradientCollector()) {
        scope.suppressNotUsedWarning();
        gc.backward(loss(model, m));
        for (int i = 0; i < names.length; i++) {
          analytic[i] = model.parameters().get(names[i]).data().getGradient().toFloatArray();
        }
      }
      model.parameters().values().forEach(p -> p.setTrainable(false));
      float eps = 1e-2f;
      for (int i = 0; i < names.length; i++) {
        Parameter p = model.parameters().get(names[i]);
        float[] w = p.data().toFloatArray();
        for (int k : new int[] {0, 7, w.length - 1}) {
          double up = lossWith(model, p, w, k, eps);
          double down = lossWith(model, p, w, k, -eps);
          double numeric = (up - down) / (2 * eps);
          double tol = 2e-4 + 1e-2 * Math.abs(numeric); // float32 differences agree to ~5e-5 here
          assertTrue(Math.abs(numeric) > 10 * 2e-4, names[i] + "[" + k + "]: " + numeric + " is too small to test");
          assertEquals(numeric, analytic[i][k], tol, names[i] + "[" + k + "]");
        }
        setTo(p, w);
      }
    }
  }

  private static long[] ids() {
    long[] ids = new long[2 * 6];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 3 + (i * 7) % 60;
    }
    return ids;
  }

  private static NDArray loss(CausalLM model, NDManager m) {
    NDArray input = Host.of(m, ids(), new Shape(2, 6));
    NDArray logits = model.forward(input, null, null, null, false).logits();
    return CausalLM.nextTokenLoss(logits, input).mean();
  }

  private static double lossWith(CausalLM model, Parameter p, float[] w, int k, float delta) {
    float[] v = w.clone();
    v[k] += delta;
    setTo(p, v);
    try (NDManager m = model.manager().newSubManager(); NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      return loss(model, m).getFloat();
    }
  }

  private static void setTo(Parameter p, float[] v) {
    NDArray fresh = p.data().getManager().create(v, p.data().getShape());
    NDScope.unregister(fresh);
    p.set(fresh);
  }
}
