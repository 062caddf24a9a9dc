package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * A forward pass without autograd keeps only each layer's output once the layer is done (one scope
 * per layer); with autograd every temporary stays for the backward. Counted as the arrays left open
 * in the inputs' manager, where every result of the pass lands.
 */
class ForwardMemoryTest {

  @Test
  void noGradPassFreesEachLayersTemporaries() {
    ModelConfig c = Tiny.config(64);
    try (CausalLM model = ModelLoader.random(c, 3, 0.02); NDManager m = model.manager().newSubManager()) {
      long[] ids = new long[2 * 6];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = 3 + (i * 7) % 60;
      }
      NDArray input = Host.of(m, ids, new Shape(2, 6));
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
      assertTrue(openWithGrad >= openNoGrad + 10 * layers,
          "with autograd " + openWithGrad + " arrays, without " + openNoGrad + ": the count would show temporaries");
    }
  }
}
