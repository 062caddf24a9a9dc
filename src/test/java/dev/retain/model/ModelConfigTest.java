package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
  @TempDir Path tmp;

  private String error(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode n = ModelConfig.llamaJson(256, 64, 176, 2, 4, 4);
    edit.accept(n);
    Path f = tmp.resolve("config.json");
    Files.writeString(f, Json.MAPPER.writeValueAsString(n));
    return assertThrows(ModelConfigException.class, () -> ModelConfig.load(tmp)).getMessage();
  }

  @Test
  void readsTheReferenceConfig() throws Exception {
    ModelConfig c = ModelConfig.load(dev.retain.testutil.Reference.tiny().resolve("model"));
    assertEquals("llama", c.modelType);
    assertEquals(16, c.headDim);
    assertEquals(1e-6f, c.rmsNormEps);
    assertEquals(List.of(2), c.eosTokenIds);
    assertEquals(false, c.tieWordEmbeddings);
  }

  @Test
  void refusesWhatItCannotRun() throws Exception {
    assertTrue(error(n -> n.put("model_type", "gpt2")).contains("model_type 'gpt2' is not supported"));
    assertTrue(error(n -> n.putObject("rope_scaling").put("type", "linear")).contains("rope_scaling"));
    assertTrue(error(n -> {
      n.put("model_type", "mistral");
      n.put("sliding_window", 4096);
    }).contains("sliding attention window"));
    assertTrue(error(n -> {
      n.put("model_type", "qwen2");
      n.put("use_sliding_window", true);
    }).contains("use_sliding_window: true"));
    assertTrue(error(n -> n.put("hidden_act", "gelu")).contains("hidden_act 'gelu'"));
  }

  @Test
  void namesMissingAndWrongTypedKeys() throws Exception {
    String m = error(n -> n.remove("hidden_size"));
    assertTrue(m.contains("config.json") && m.contains("'hidden_size' is missing"), m);
    m = error(n -> n.put("num_hidden_layers", "two"));
    assertTrue(m.contains("'num_hidden_layers' must be a non-negative integer, got \"two\""), m);
    m = error(n -> n.put("num_key_value_heads", 3));
    assertTrue(m.contains("multiple of num_key_value_heads"), m);
    m = error(n -> n.put("tie_word_embeddings", "yes"));
    assertTrue(m.contains("'tie_word_embeddings' must be true or false"), m);
    m = error(n -> n.put("eos_token_id", 999));
    assertTrue(m.contains("eos_token_id 999 is outside the vocabulary"), m);
  }

  @Test
  void invalidJsonAndMissingFile() throws Exception {
    assertTrue(assertThrows(ModelConfigException.class, () -> ModelConfig.load(tmp)).getMessage().contains("not found"));
    Files.writeString(tmp.resolve("config.json"), "{\"model_type\": ");
    assertTrue(assertThrows(ModelConfigException.class, () -> ModelConfig.load(tmp)).getMessage().contains("not valid JSON"));
  }

  @Test
  void qwen2AndGqaFlags() throws Exception {
    ObjectNode n = ModelConfig.llamaJson(256, 64, 176, 2, 8, 2);
    n.put("model_type", "qwen2");
    ModelConfig c = ModelConfig.fromJson(n, "x");
    assertEquals(4, c.kvGroups());
    assertTrue(c.qkvBias);
    assertEquals(false, c.oBias);
  }
}
