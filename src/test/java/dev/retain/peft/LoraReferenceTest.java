package dev.retain.peft;

import static dev.retain.peft.PeftFixtures.assertGradClose;
import static dev.retain.testutil.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraLayer;
import dev.retain.peft.lora.LoraModel;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.testutil.Reference;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LoRA loaded from PEFT 0.10's own files reproduces PEFT's logits, losses, merged weights and gradients. */
class LoraReferenceTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"lora-qv", "lora-all"})
  void adapterLogitsAndLossesMatchPeft(String name) throws Exception {
    Path dir = Reference.tiny().resolve(name);
    long[] ids = PeftFixtures.inputIds();
    try (CausalLM model = PeftFixtures.referenceModel();
        SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
      LoraModel lora = Lora.load(dir, model);
      assertEquals(name.equals("lora-qv") ? 4 : 14, lora.layers().size());
      try (NDManager m = model.manager().newSubManager()) {
        NDArray in = PeftFixtures.input(m, ids);
        NDArray logits = model.logits(in);
        assertClose(ref.readFloats("logits_adapter"), logits.toFloatArray(), 1e-4, name + " logits_adapter");
        NDArray loss = CausalLM.nextTokenLoss(logits, in);
        assertClose(ref.readFloats("loss_per_token_adapter"), loss.toFloatArray(), 1e-4, name + " loss_per_token_adapter");
        assertEquals(ref.readFloats("loss_mean_adapter")[0], loss.mean().getFloat(), 1e-4, name + " loss_mean_adapter");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora-qv", "lora-all"})
  void mergeReproducesPeftAndUnmergeRestoresTheBase(String name) throws Exception {
    Path dir = Reference.tiny().resolve(name);
    long[] ids = PeftFixtures.inputIds();
    Map<String, float[]> mergedRef = PeftFixtures.readAll(dir.resolve("merged_weights.safetensors"));
    try (CausalLM model = PeftFixtures.referenceModel();
        SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
      Map<String, float[]> base = new HashMap<>();
      model.parameters().forEach((k, p) -> base.put(k, p.data().toFloatArray()));
      LoraModel lora = Lora.load(dir, model);
      lora.merge();
      assertTrue(lora.merged());
      for (Map.Entry<String, float[]> e : mergedRef.entrySet()) {
        assertClose(e.getValue(), model.parameters().get(e.getKey()).data().toFloatArray(), 1e-4, name + " merged " + e.getKey());
      }
      assertEquals(name.equals("lora-qv") ? 4 : 14, mergedRef.size());
      float[] merged = PeftFixtures.logits(model, ids);
      assertClose(ref.readFloats("logits_merged"), merged, 1e-4, name + " logits_merged");
      assertEquals(ref.readFloats("loss_mean_merged")[0], PeftFixtures.meanLoss(model, ids), 1e-4, name + " loss_mean_merged");

      lora.unmerge();
      for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
        assertClose(base.get(e.getKey()), e.getValue().data().toFloatArray(), 1e-6, name + " unmerged " + e.getKey());
      }
      assertClose(ref.readFloats("logits_adapter"), PeftFixtures.logits(model, ids), 1e-4, name + " adapter logits after unmerge");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora-qv", "lora-all"})
  void gradientsOfTheMeanLossMatchPeft(String name) throws Exception {
    Path dir = Reference.tiny().resolve(name);
    long[] ids = PeftFixtures.inputIds();
    Map<String, float[]> refGrads = PeftFixtures.readAll(dir.resolve("grads.safetensors"));
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.load(dir, model, true);
      for (Parameter p : model.parameters().values()) {
        assertTrue(!p.trainable(), p.name() + " must be frozen");
      }
      assertEquals(refGrads.size(), lora.parameters().size());
      try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
        scope.suppressNotUsedWarning();
        try (GradientCollector gc = Backend.engine().newGradientCollector()) {
          NDArray in = PeftFixtures.input(m, ids);
          NDArray loss = CausalLM.nextTokenLoss(model.logits(in), in).mean();
          gc.backward(loss);
        }
        for (LoraLayer l : lora.layers().values()) {
          for (Parameter p : l.parameters()) {
            NDArray g = Grads.of(p.data());
            assertNotNull(g, p.name() + " got no gradient");
            float[] want = refGrads.get("base_model.model." + p.name());
            assertNotNull(want, "no reference gradient for " + p.name());
            assertGradClose(want, g.toFloatArray(), name + " grad " + p.name());
          }
        }
      } finally {
        lora.parameters().forEach(p -> Grads.zero(p.data()));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora-qv", "lora-all"})
  void savingTheLoadedAdapterAgainIsBitExact(String name) throws Exception {
    Path dir = Reference.tiny().resolve(name);
    Path out = tmp.resolve(name);
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.load(dir, model);
      lora.save(out);
    }
    PeftFixtures.assertSameTensors(dir.resolve(AdapterFiles.WEIGHTS), out.resolve(AdapterFiles.WEIGHTS));
    PeftFixtures.assertEquivalentConfig(dir.resolve(AdapterFiles.CONFIG), out.resolve(AdapterFiles.CONFIG));
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve(AdapterFiles.WEIGHTS))) {
      assertEquals("pt", f.metadata().get("format"));
    }
    // And what we wrote loads again to the same function.
    long[] ids = PeftFixtures.inputIds();
    try (CausalLM model = PeftFixtures.referenceModel();
        SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
      Lora.load(out, model);
      assertClose(ref.readFloats("logits_adapter"), PeftFixtures.logits(model, ids), 1e-4, name + " reloaded");
    }
  }
}
