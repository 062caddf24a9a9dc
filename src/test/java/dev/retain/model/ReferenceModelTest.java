package dev.retain.model;

import static dev.retain.testutil.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.testutil.Reference;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The model reproduces Hugging Face transformers' LlamaForCausalLM on ../shared/reference. */
class ReferenceModelTest {
  static CausalLM model;
  static long[] ids;

  @BeforeAll
  static void load() throws Exception {
    Path dir = Reference.tiny();
    model = ModelLoader.load(dir.resolve("model"));
    try (SafetensorsFile in = SafetensorsFile.open(dir.resolve("inputs.safetensors"))) {
      ids = in.readLongs("input_ids");
    }
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void logitsHiddenStatesAndLossesMatchTransformers() throws Exception {
    float[] refLogits;
    float[] refHidden;
    float[] refLoss;
    float refMean;
    try (SafetensorsFile ref = SafetensorsFile.open(Reference.tiny().resolve("reference.safetensors"))) {
      refLogits = ref.readFloats("logits");
      refHidden = ref.readFloats("hidden_states");
      refLoss = ref.readFloats("loss_per_token");
      refMean = ref.readFloats("loss_mean")[0];
    }
    try (NDManager m = model.manager().newSubManager()) {
      NDArray input = m.create(ids, new Shape(2, 24));
      CausalLM.Output out = model.forward(input, null, null, null, true);
      assertArrayEquals(new long[] {2, 24, 256}, out.logits().getShape().getShape());
      assertClose(refLogits, out.logits().toFloatArray(), 1e-4, "logits");
      assertEquals(3, out.hiddenStates().size());
      NDArray hidden = NDArrays.stack(new ai.djl.ndarray.NDList(out.hiddenStates().toArray(new NDArray[0])));
      assertClose(refHidden, hidden.toFloatArray(), 1e-4, "hidden_states");
      NDArray loss = CausalLM.nextTokenLoss(out.logits(), input);
      assertClose(refLoss, loss.toFloatArray(), 1e-4, "loss_per_token");
      assertEquals(refMean, loss.mean().getFloat(), 1e-4, "loss_mean");
    }
  }

  @Test
  void kvCacheStepByStepEqualsFullPass() {
    try (NDManager m = model.manager().newSubManager(); KVCache cache = new KVCache(model.config.numLayers)) {
      NDArray input = m.create(ids, new Shape(2, 24));
      float[] full = model.logits(input).toFloatArray();
      // Prefill 10 tokens, then feed the rest one at a time.
      float[] prefill = model.forward(input.get(":, :10"), null, null, cache, false).logits().toFloatArray();
      float[] stepwise = new float[full.length];
      for (int b = 0; b < 2; b++) {
        System.arraycopy(prefill, b * 10 * 256, stepwise, b * 24 * 256, 10 * 256);
      }
      for (int t = 10; t < 24; t++) {
        float[] step = model.forward(input.get(":, {}:{}", t, t + 1), null, null, cache, false).logits().toFloatArray();
        for (int b = 0; b < 2; b++) {
          System.arraycopy(step, b * 256, stepwise, (b * 24 + t) * 256, 256);
        }
      }
      assertEquals(24, cache.length());
      assertClose(full, stepwise, 1e-4, "cached logits");
    }
  }
}
