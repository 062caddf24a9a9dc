package dev.retain.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The named model shapes the benchmark and the planner know, all Llama (untied head, no biases,
 * SwiGLU with FFN about 8/3 of hidden rounded as Llama does, head dim 32 to 64):
 *
 * <pre>
 *   name   vocab  hidden  FFN   layers  heads  parameters (embedding + head included)
 *   tiny     256      32    64       2      4  (smoke runs and tests)
 *   2m      4096     128   344       4      4  1.8M
 *   base    4096     256   688       6      8  6.8M  (the size of the bundled base model)
 *   25m     4096     512  1376       8      8  29.5M (25.2M outside embedding and head)
 *   50m     4096     640  1728      10     10  54.8M
 *   7b     32000    4096 11008      32     32  6.74B (Llama-2-7B; planner only)
 * </pre>
 *
 * Anything else is a model folder (its config.json) or a config.json file.
 */
public final class BenchModels {
  private BenchModels() {}

  /** The named shapes in sweep order (tiny and 7b are not part of the sweep). */
  public static final String[] SWEEP = {"2m", "base", "25m", "50m"};

  private static final Map<String, int[]> SHAPES = new LinkedHashMap<>();

  static {
    // vocab, hidden, intermediate, layers, heads, kvHeads
    SHAPES.put("tiny", new int[] {256, 32, 64, 2, 4, 4});
    SHAPES.put("2m", new int[] {4096, 128, 344, 4, 4, 4});
    SHAPES.put("base", new int[] {4096, 256, 688, 6, 8, 8});
    SHAPES.put("25m", new int[] {4096, 512, 1376, 8, 8, 8});
    SHAPES.put("50m", new int[] {4096, 640, 1728, 10, 10, 10});
    SHAPES.put("7b", new int[] {32000, 4096, 11008, 32, 32, 32});
  }

  /** Whether {@code name} is one of the named shapes. */
  public static boolean isNamed(String name) {
    return SHAPES.containsKey(name);
  }

  /** The Hugging Face config.json object of a named shape. */
  public static ObjectNode json(String name) {
    int[] s = SHAPES.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no model shape named '" + name + "'; known: " + String.join(", ", SHAPES.keySet()));
    }
    ObjectNode n = ModelConfig.llamaJson(s[0], s[1], s[2], s[3], s[4], s[5]);
    if (name.equals("7b")) {
      n.put("max_position_embeddings", 4096);
      n.put("rms_norm_eps", 1e-5);
    }
    return n;
  }

  /** A named shape, a model folder (config.json inside) or a config.json file. */
  public static ModelConfig resolve(String spec) throws IOException {
    if (isNamed(spec)) {
      return ModelConfig.fromJson(json(spec), spec);
    }
    Path p = Path.of(spec);
    if (!Files.exists(p)) {
      throw new IllegalArgumentException("--model '" + spec + "': neither a named shape (" + String.join(", ", SHAPES.keySet())
          + ") nor an existing model folder or config.json");
    }
    return ModelConfig.load(p);
  }

  /** A short label for tables: the name, or the file's folder name. */
  public static String label(String spec) {
    if (isNamed(spec)) {
      return spec;
    }
    Path p = Path.of(spec).toAbsolutePath().normalize();
    Path f = p.getFileName();
    if (f != null && f.toString().equals("config.json") && p.getParent() != null) {
      f = p.getParent().getFileName();
    }
    return f == null ? spec : f.toString();
  }
}
