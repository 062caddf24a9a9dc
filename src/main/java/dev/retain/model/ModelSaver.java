package dev.retain.model;

import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsCheckpoint;
import dev.retain.model.safetensors.TensorData;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model in Hugging Face layout (config.json, model.safetensors or shards with an index,
 * plus the tokenizer files given), so transformers' from_pretrained loads it. The folder is built
 * beside the target and renamed into place: a crash never leaves half a model.
 */
public final class ModelSaver {
  /** Shard size like transformers' default save (5 GB). */
  public static final long DEFAULT_SHARD_BYTES = 5L * 1000 * 1000 * 1000;

  private static final List<String> TOKENIZER_FILES =
      List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json");

  private ModelSaver() {}

  /**
   * Saves the base parameters (adapters are not part of a Hugging Face model: merge them first) in
   * {@code dtype}, copying tokenizer and generation files from {@code filesFrom} when given.
   */
  public static void save(CausalLM model, Path dir, DType dtype, Path filesFrom) throws IOException {
    Path staging = AtomicFiles.stagingDirFor(dir);
    try {
      List<TensorData> tensors = new ArrayList<>();
      for (Parameter p : model.parameters().values()) {
        tensors.add(TensorData.ofFloats(p.name(), dtype, p.data().getShape().getShape(), p.data().toFloatArray()));
      }
      SafetensorsCheckpoint.writeSharded(staging, tensors, Map.of("format", "pt"), DEFAULT_SHARD_BYTES);
      var config = model.config.toJson();
      config.put("torch_dtype", switch (dtype) {
        case BF16 -> "bfloat16";
        case F16 -> "float16";
        default -> "float32";
      });
      AtomicFiles.writeString(staging.resolve("config.json"), Json.PRETTY.writeValueAsString(config) + "\n");
      if (filesFrom != null) {
        for (String f : TOKENIZER_FILES) {
          Path src = filesFrom.resolve(f);
          if (Files.isRegularFile(src)) {
            Files.copy(src, staging.resolve(f));
          }
        }
      }
      AtomicFiles.publish(staging, dir);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(staging);
      throw e;
    }
  }
}
