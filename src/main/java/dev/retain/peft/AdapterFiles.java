package dev.retain.peft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.model.safetensors.TensorData;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** What LoRA and bottleneck adapters share: the two files of an adapter folder, parameters, seeded init. */
public final class AdapterFiles {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  private AdapterFiles() {}

  /** Reads {@code dir/adapter_config.json} as a JSON object, with errors that name the file. */
  public static ObjectNode readConfig(Path dir) throws AdapterException {
    if (dir == null) {
      throw new AdapterException("no adapter folder given");
    }
    if (!Files.isDirectory(dir)) {
      throw new AdapterException(dir + ": adapter folder not found (expected a folder holding " + CONFIG + " and "
          + WEIGHTS + ")");
    }
    Path file = dir.resolve(CONFIG);
    if (!Files.isRegularFile(file)) {
      throw new AdapterException(file + ": missing; an adapter folder holds " + CONFIG + " and " + WEIGHTS
          + " (as PeftModel.save_pretrained writes them)");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new AdapterException(file + ": not valid JSON (line " + e.getLocation().getLineNr() + "): "
          + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new AdapterException(file + ": cannot be read: " + e.getMessage(), e);
    }
    if (!(node instanceof ObjectNode o)) {
      throw new AdapterException(file + ": must hold a JSON object, found " + (node == null ? "nothing" : node.getNodeType()));
    }
    return o;
  }

  /** Opens {@code dir/adapter_model.safetensors}; a PyTorch .bin adapter gets a pointed message. */
  public static SafetensorsFile openWeights(Path dir) throws AdapterException {
    Path file = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(file)) {
      if (Files.isRegularFile(dir.resolve("adapter_model.bin"))) {
        throw new AdapterException(file + ": missing; this folder has adapter_model.bin (pickle), which retain does not "
            + "read. Re-save it in Python with save_pretrained(..., safe_serialization=True)");
      }
      throw new AdapterException(file + ": missing; the adapter's weights belong there");
    }
    try {
      return SafetensorsFile.open(file);
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    }
  }

  /** Reads a float tensor whose name and shape were already checked. */
  public static float[] readFloats(SafetensorsFile f, String key) throws AdapterException {
    try {
      return f.readFloats(key);
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    }
  }

  /** Checks that {@code key} exists with {@code shape} and a float dtype; {@code why} explains the shape. */
  public static void checkTensor(SafetensorsFile f, String key, long[] shape, String why) throws AdapterException {
    if (!f.contains(key)) {
      throw new AdapterException(f.path() + ": tensor '" + key + "' is missing (" + why + ")");
    }
    try {
      var info = f.info(key);
      if (!Arrays.equals(info.shape(), shape)) {
        throw new AdapterException(f.path() + ": tensor '" + key + "' has shape " + Arrays.toString(info.shape())
            + " but " + why + " imply " + Arrays.toString(shape));
      }
      if (!info.dtype().isFloatingPoint()) {
        throw new AdapterException(f.path() + ": tensor '" + key + "' has dtype " + info.dtype()
            + "; adapter weights must be F32, F16 or BF16");
      }
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    }
  }

  /**
   * A generator for one module's initial values: depends only on the seed and the module's name, so
   * which other modules are targeted does not change it. String.hashCode is specified, hence stable.
   */
  public static SplittableRandom rng(long seed, String moduleName) {
    long h = seed * 0x9E3779B97F4A7C15L + moduleName.hashCode();
    h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
    h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
    return new SplittableRandom(h ^ (h >>> 31));
  }

  /**
   * U(-bound, bound) with bound = 1/sqrt(fanIn): torch's kaiming_uniform_(w, a=sqrt(5)), which is how
   * PEFT initialises lora_A and nn.Linear its weights.
   */
  public static float[] kaimingUniform(SplittableRandom rng, int rows, int fanIn) {
    double bound = 1.0 / Math.sqrt(fanIn);
    float[] w = new float[Math.multiplyExact(rows, fanIn)];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }
    return w;
  }

  /** A float32 tensor for the writer from a parameter's current values. */
  public static TensorData tensor(String key, Parameter p) {
    return TensorData.ofFloats(key, DType.F32, p.data().getShape().getShape(), p.data().toFloatArray());
  }

  /**
   * Writes an adapter folder atomically: both files are written into a staging folder beside
   * {@code dir}, which then replaces {@code dir}. Other files of an existing {@code dir} are kept
   * (copied into the staging folder first), so a README or tokenizer next to the adapter survives.
   */
  public static void writeFolder(Path dir, JsonNode config, List<TensorData> tensors) throws IOException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new AdapterException(dir + ": exists and is not a folder; choose a folder for the adapter");
    }
    if (Files.isDirectory(dir)) {
      try (var s = Files.list(dir)) {
        for (Path p : s.toList()) {
          if (Files.isDirectory(p)) {
            throw new AdapterException(dir + ": exists and holds the folder '" + p.getFileName()
                + "'; an adapter folder is replaced as a whole, so choose a new or adapter-only folder");
          }
        }
      }
    }
    Path staging = AtomicFiles.stagingDirFor(dir);
    try {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          for (Path p : s.toList()) {
            String n = p.getFileName().toString();
            if (Files.isRegularFile(p) && !n.equals(CONFIG) && !n.equals(WEIGHTS) && !n.equals("adapter_model.bin")) {
              Files.copy(p, staging.resolve(n));
            }
          }
        }
      }
      SafetensorsWriter w = new SafetensorsWriter();
      w.metadata(Map.of("format", "pt"));
      w.addAll(tensors);
      w.write(staging.resolve(WEIGHTS));
      AtomicFiles.writeString(staging.resolve(CONFIG), Json.PRETTY.writeValueAsString(config) + "\n");
      AtomicFiles.publish(staging, dir);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(staging);
      throw e;
    }
  }
}
