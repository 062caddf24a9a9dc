package dev.retain.model;

import ai.djl.ndarray.NDManager;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsCheckpoint;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.TensorInfo;
import dev.retain.tensor.Backend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates a {@link CausalLM} from a Hugging Face model folder, or from random initialisation for
 * pretraining. Knows which tensors a config implies and checks the checkpoint against that list.
 */
public final class ModelLoader {
  private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

  private ModelLoader() {}

  /** Checkpoint names and shapes that a config implies, in Hugging Face's order. */
  public static Map<String, long[]> expectedShapes(ModelConfig c) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long h = c.hiddenSize;
    long qDim = (long) c.numHeads * c.headDim;
    long kvDim = (long) c.numKvHeads * c.headDim;
    m.put("model.embed_tokens.weight", new long[] {c.vocabSize, h});
    for (int i = 0; i < c.numLayers; i++) {
      String p = "model.layers." + i + ".";
      m.put(p + "input_layernorm.weight", new long[] {h});
      m.put(p + "self_attn.q_proj.weight", new long[] {qDim, h});
      m.put(p + "self_attn.k_proj.weight", new long[] {kvDim, h});
      m.put(p + "self_attn.v_proj.weight", new long[] {kvDim, h});
      m.put(p + "self_attn.o_proj.weight", new long[] {h, qDim});
      if (c.qkvBias) {
        m.put(p + "self_attn.q_proj.bias", new long[] {qDim});
        m.put(p + "self_attn.k_proj.bias", new long[] {kvDim});
        m.put(p + "self_attn.v_proj.bias", new long[] {kvDim});
      }
      if (c.oBias) {
        m.put(p + "self_attn.o_proj.bias", new long[] {h});
      }
      m.put(p + "post_attention_layernorm.weight", new long[] {h});
      m.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize, h});
      m.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize, h});
      m.put(p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize});
      if (c.mlpBias) {
        m.put(p + "mlp.gate_proj.bias", new long[] {c.intermediateSize});
        m.put(p + "mlp.up_proj.bias", new long[] {c.intermediateSize});
        m.put(p + "mlp.down_proj.bias", new long[] {h});
      }
    }
    m.put("model.norm.weight", new long[] {h});
    if (!c.tieWordEmbeddings) {
      m.put("lm_head.weight", new long[] {c.vocabSize, h});
    }
    return m;
  }

  /** Loads config.json and the safetensors weights of {@code dir} into a new model (float32). */
  public static CausalLM load(Path dir) throws IOException {
    ModelConfig config = ModelConfig.load(dir);
    NDManager manager = Backend.newManager();
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
      Map<String, long[]> expected = expectedShapes(config);
      List<String> missing = new ArrayList<>();
      for (String name : expected.keySet()) {
        if (!ckpt.contains(name)) {
          missing.add(name);
        }
      }
      if (!missing.isEmpty()) {
        throw new SafetensorsException(dir + ": " + missing.size() + " tensor(s) that config.json implies are missing from the checkpoint, e.g. "
            + missing.subList(0, Math.min(5, missing.size()))
            + ". Is config.json from a different model (num_hidden_layers, tie_word_embeddings, attention_bias)?");
      }
      TreeSet<String> extra = new TreeSet<>(ckpt.names());
      extra.removeAll(expected.keySet());
      extra.removeIf(n -> n.endsWith("rotary_emb.inv_freq") || (config.tieWordEmbeddings && n.equals("lm_head.weight")));
      if (!extra.isEmpty()) {
        LOG.warn("{}: ignoring {} tensor(s) that a {} model does not use, e.g. {}", dir, extra.size(), config.modelType,
            extra.stream().limit(5).toList());
      }
      Map<String, Parameter> params = new LinkedHashMap<>();
      for (Map.Entry<String, long[]> e : expected.entrySet()) {
        String name = e.getKey();
        TensorInfo info = ckpt.info(name);
        if (!Arrays.equals(info.shape(), e.getValue())) {
          throw new SafetensorsException(dir + ": tensor '" + name + "' has shape " + Arrays.toString(info.shape())
              + " but config.json implies " + Arrays.toString(e.getValue()));
        }
        if (!info.dtype().isFloatingPoint()) {
          throw new SafetensorsException(dir + ": tensor '" + name + "' has dtype " + info.dtype() + "; model weights must be F32, F16 or BF16");
        }
        params.put(name, Parameter.of(manager, name, ckpt.readFloats(name), e.getValue()));
      }
      return new CausalLM(config, manager, params);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * A model with fresh weights as transformers initialises a Llama: linear and embedding weights
   * N(0, 0.02^2), norm weights 1, biases 0. Deterministic for a seed (drawn in Java, in checkpoint
   * order, independent of the engine).
   */
  public static CausalLM random(ModelConfig config, long seed, double initStd) {
    NDManager manager = Backend.newManager();
    try {
      SplittableRandom rng = new SplittableRandom(seed);
      Map<String, Parameter> params = new LinkedHashMap<>();
      for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
        String name = e.getKey();
        long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
        float[] data = new float[Math.toIntExact(n)];
        if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
          Arrays.fill(data, 1f);
        } else if (!name.endsWith(".bias")) {
          for (int i = 0; i < data.length; i++) {
            data[i] = (float) (gaussian(rng) * initStd);
          }
        }
        params.put(name, Parameter.of(manager, name, data, e.getValue()));
      }
      return new CausalLM(config, manager, params);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** The dtype a model folder stores its weights in, used to save a tuned model the same way. */
  public static DType storedDtype(ModelConfig config) {
    return switch (config.torchDtype()) {
      case "bfloat16" -> DType.BF16;
      case "float16" -> DType.F16;
      default -> DType.F32;
    };
  }
}
