package dev.retain.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.peft.bottleneck.Bottleneck;
import dev.retain.peft.bottleneck.BottleneckConfig;
import dev.retain.peft.bottleneck.BottleneckModel;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.testutil.Reference;
import dev.retain.train.AdamW;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bottleneck adapters after the MLP: identity at init, they train, and their folder round-trips bit-exactly. */
class BottleneckTest {
  static long[] ids;
  static float[] baseLogits;
  @TempDir Path tmp;

  @BeforeAll
  static void base() throws Exception {
    ids = PeftFixtures.inputIds();
    try (CausalLM model = PeftFixtures.referenceModel()) {
      baseLogits = PeftFixtures.logits(model, ids);
    }
  }

  @Test
  void zeroInitialisedAdapterLeavesLogitsUnchanged() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      BottleneckModel b = Bottleneck.apply(model, BottleneckConfig.defaults(), 1);
      assertEquals(4, b.bottleneckSize()); // 64 / 16
      assertEquals(2, b.adapters().size());
      assertArrayEquals(baseLogits, PeftFixtures.logits(model, ids));
      assertEquals(Set.of("model.layers.0.mlp_adapter.down.weight", "model.layers.0.mlp_adapter.down.bias",
          "model.layers.0.mlp_adapter.up.weight", "model.layers.0.mlp_adapter.up.bias",
          "model.layers.1.mlp_adapter.down.weight", "model.layers.1.mlp_adapter.down.bias",
          "model.layers.1.mlp_adapter.up.weight", "model.layers.1.mlp_adapter.up.bias"), b.parameterNames());
      assertTrue(model.allParameters().keySet().containsAll(b.parameterNames()));
      for (Parameter p : model.parameters().values()) {
        assertFalse(p.trainable(), p.name());
      }
      assertEquals(2L * (4 * 64 + 4 + 64 * 4 + 64), b.numParameters());
    }
  }

  /** A few AdamW steps on the adapter parameters; returns the losses before and after. */
  private static float[] train(CausalLM model, BottleneckModel b, int steps) {
    AdamW opt = new AdamW(0.9, 0.999, 1e-8);
    float first = PeftFixtures.meanLoss(model, ids);
    for (int s = 0; s < steps; s++) {
      try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
        scope.suppressNotUsedWarning();
        try (GradientCollector gc = Backend.engine().newGradientCollector()) {
          NDArray in = PeftFixtures.input(m, ids);
          gc.backward(CausalLM.nextTokenLoss(model.logits(in), in).mean());
        }
        for (Parameter p : b.parameters()) {
          NDArray g = Grads.of(p.data());
          assertNotNull(g, p.name());
          opt.step(p, g, 1e-2, new AdamW.Group(1, 0));
          Grads.zero(p.data());
        }
      }
    }
    return new float[] {first, PeftFixtures.meanLoss(model, ids)};
  }

  @Test
  void trainingMovesTheLossAndTheFolderRoundTripsBitExactly() throws Exception {
    Path dir = tmp.resolve("bottleneck");
    float[] trained;
    try (CausalLM model = PeftFixtures.referenceModel()) {
      BottleneckModel b = Bottleneck.apply(model,
          new BottleneckConfig(8, 0, BottleneckConfig.Activation.GELU, List.of(1)), 3, "hf-llama-tiny");
      assertEquals(1, b.adapters().size());
      assertNull(model.layers.get(0).mlpAdapter());
      float[] losses = train(model, b, 5);
      assertTrue(losses[1] < losses[0] - 1e-3, "loss " + losses[0] + " -> " + losses[1]);
      trained = PeftFixtures.logits(model, ids);
      // Off: exactly the base model again (the teacher).
      b.setEnabled(false);
      assertArrayEquals(baseLogits, PeftFixtures.logits(model, ids));
      b.setEnabled(true);
      b.save(dir);
      Path again = tmp.resolve("again");
      try (CausalLM model2 = PeftFixtures.referenceModel()) {
        BottleneckModel back = (BottleneckModel) AdapterFolder.load(model2, dir, false);
        assertEquals(BottleneckConfig.Activation.GELU, back.config().activation());
        assertEquals(8, back.bottleneckSize());
        assertArrayEquals(trained, PeftFixtures.logits(model2, ids));
        for (Parameter p : back.parameters()) {
          assertArrayEquals(b.parameters().stream().filter(q -> q.name().equals(p.name())).findFirst().orElseThrow()
              .data().toFloatArray(), p.data().toFloatArray(), p.name());
          assertFalse(p.trainable());
        }
        back.save(again);
      }
      PeftFixtures.assertSameTensors(dir.resolve(AdapterFiles.WEIGHTS), again.resolve(AdapterFiles.WEIGHTS));
      assertEquals(Json.MAPPER.readTree(dir.resolve(AdapterFiles.CONFIG).toFile()),
          Json.MAPPER.readTree(again.resolve(AdapterFiles.CONFIG).toFile()));
    }
    JsonNode cfg = Json.MAPPER.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
    assertEquals("bottleneck", cfg.get("adapter_type").asText());
    assertEquals(1, cfg.get("format_version").asInt());
    assertEquals(8, cfg.get("reduction_factor").asInt());
    assertEquals(8, cfg.get("bottleneck_size").asInt());
    assertEquals(64, cfg.get("hidden_size").asInt());
    assertEquals("gelu", cfg.get("activation").asText());
    assertEquals("[1]", cfg.get("layers").toString());
    assertEquals("hf-llama-tiny", cfg.get("base_model_name_or_path").asText());
  }

  @Test
  void siluAndReluAdaptersTrainToo() throws Exception {
    for (BottleneckConfig.Activation act : List.of(BottleneckConfig.Activation.SILU, BottleneckConfig.Activation.RELU)) {
      try (CausalLM model = PeftFixtures.referenceModel()) {
        BottleneckModel b = Bottleneck.apply(model, new BottleneckConfig(16, 0, act, null), 5);
        float[] losses = train(model, b, 3);
        assertTrue(losses[1] < losses[0], act + ": loss " + losses[0] + " -> " + losses[1]);
      }
    }
  }

  @Test
  void errorsNameTheFile() throws Exception {
    Path dir = tmp.resolve("b");
    try (CausalLM model = PeftFixtures.referenceModel()) {
      Bottleneck.apply(model, BottleneckConfig.defaults(), 1).save(dir);
    }
    ObjectNode j = (ObjectNode) Json.MAPPER.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
    j.put("bottleneck_size", 5);
    Files.writeString(dir.resolve(AdapterFiles.CONFIG), j.toString());
    try (CausalLM model = PeftFixtures.referenceModel()) {
      AdapterException e = assertThrows(AdapterException.class, () -> AdapterFolder.load(model, dir, false));
      assertTrue(e.getMessage().contains("adapter_model.safetensors") && e.getMessage().contains("down.weight")
          && e.getMessage().contains("[5, 64]"), e.getMessage());
      assertNull(model.layers.get(0).mlpAdapter());
      j.put("bottleneck_size", 4);
      j.put("hidden_size", 128);
      Files.writeString(dir.resolve(AdapterFiles.CONFIG), j.toString());
      e = assertThrows(AdapterException.class, () -> AdapterFolder.load(model, dir, false));
      assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("hidden_size 128"), e.getMessage());
      j.put("hidden_size", 64);
      j.put("adapter_type", "prompt");
      Files.writeString(dir.resolve(AdapterFiles.CONFIG), j.toString());
      e = assertThrows(AdapterException.class, () -> AdapterFolder.load(model, dir, false));
      assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("prompt"), e.getMessage());
      IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
          () -> Bottleneck.apply(model, new BottleneckConfig(16, 0, null, List.of(2)), 1));
      assertTrue(ie.getMessage().contains("layer 2"), ie.getMessage());
    }
    assertTrue(Reference.tiny().toFile().isDirectory());
  }
}
