package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.testutil.Reference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model folder that does not fit its config.json, or a bad tokenizer.json, fails with a clear message. */
class BadModelFilesTest {
  @TempDir Path tmp;

  /** Copies the reference model, leaving out or adding tensors. */
  private Path modelWith(List<String> drop, boolean extra) throws IOException {
    Path src = Reference.tiny().resolve("model");
    Path dir = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
    Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
      for (String n : f.names()) {
        if (!drop.contains(n)) {
          w.addFloats(n, DType.F32, f.info(n).shape(), f.readFloats(n));
        }
      }
    }
    if (extra) {
      w.addFloats("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, new long[] {8}, new float[8]);
      w.addFloats("vision_tower.weight", DType.F32, new long[] {2}, new float[2]);
    }
    w.write(dir.resolve("model.safetensors"));
    return dir;
  }

  @Test
  void missingTensorsAreNamed() throws Exception {
    Path dir = modelWith(List.of("model.layers.1.mlp.down_proj.weight"), false);
    String m = assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage();
    assertTrue(m.contains("model.layers.1.mlp.down_proj.weight") && m.contains("missing"), m);
  }

  @Test
  void extraTensorsOnlyWarn() throws Exception {
    try (CausalLM m = ModelLoader.load(modelWith(List.of(), true))) {
      assertTrue(m.numParameters() > 0);
    }
  }

  @Test
  void wrongShapeIsNamed() throws Exception {
    Path dir = modelWith(List.of(), false);
    String cfg = Files.readString(dir.resolve("config.json")).replace("\"intermediate_size\": 176", "\"intermediate_size\": 175");
    Files.writeString(dir.resolve("config.json"), cfg);
    String m = assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage();
    assertTrue(m.contains("shape") && m.contains("mlp"), m);
  }

  @Test
  void tokenizerProblemsAreClear() throws Exception {
    String missing = assertThrows(IOException.class, () -> Tokenizer.load(tmp)).getMessage();
    assertTrue(missing.contains("tokenizer.json") && missing.contains("not found"), missing);
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": ");
    String broken = assertThrows(IOException.class, () -> Tokenizer.load(tmp)).getMessage();
    assertTrue(broken.contains("not valid JSON"), broken);
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
    assertTrue(assertThrows(IOException.class, () -> Tokenizer.load(tmp)).getMessage().contains("no \"model\" object"));
    Files.writeString(tmp.resolve("tokenizer.json"), dev.retain.util.Json.MAPPER.writeValueAsString(
        ByteLevelBpe.tokenizerJson(List.of("<unk>", "<s>", "</s>"), List.of())));
    try (Tokenizer t = Tokenizer.load(tmp)) {
      ModelConfig c = ModelConfig.load(Reference.tiny().resolve("model"));
      String big = assertThrows(ModelConfigException.class, () -> t.checkFits(c, Reference.tiny().resolve("model"))).getMessage();
      assertTrue(big.contains("259 tokens") && big.contains("vocab_size 256"), big);
    }
  }
}
