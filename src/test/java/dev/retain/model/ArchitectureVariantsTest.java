package dev.retain.model;

import static dev.retain.testutil.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Grouped-query attention, tied embeddings and Qwen2's q/k/v biases against an independent numpy
 * implementation (tools/arch_vectors.py wrote src/test/resources/arch/).
 */
class ArchitectureVariantsTest {
  @ParameterizedTest
  @ValueSource(strings = {"gqa", "tied", "qwen2"})
  void matchesNumpyReference(String variant) throws Exception {
    ArchFixture fx = ArchFixture.load(variant);
    long[] ids = fx.ids();
    float[] logits = fx.logits();
    float[] loss = fx.loss();
    try (CausalLM model = ModelLoader.load(fx.dir()); NDManager m = model.manager().newSubManager()) {
      switch (variant) {
        case "gqa" -> assertEquals(2, model.config.kvGroups());
        case "tied" -> assertEquals(model.embedTokens, model.lmHead.weight);
        case "qwen2" -> assertEquals(true, model.layers.get(0).qProj.bias != null && model.layers.get(0).oProj.bias == null);
        default -> throw new IllegalStateException(variant);
      }
      NDArray input = m.create(ids, new Shape(2, ids.length / 2));
      NDArray out = model.logits(input);
      assertClose(logits, out.toFloatArray(), 1e-4, variant + " logits");
      assertClose(loss, CausalLM.nextTokenLoss(out, input).toFloatArray(), 1e-4, variant + " loss");
    }
  }
}
