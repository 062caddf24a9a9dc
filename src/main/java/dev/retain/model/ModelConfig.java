package dev.retain.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.util.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a decoder-only model, read from a Hugging Face {@code config.json}.
 *
 * <p>Supported: {@code model_type} llama, mistral (sliding window off) and qwen2 (q/k/v biases).
 * Anything that would change the computation and that retain does not implement (rope_scaling, a
 * sliding window, an activation other than SiLU) is refused rather than silently ignored. The
 * original JSON is kept so that saving writes back every key the user had.
 */
public final class ModelConfig {
  public static final Set<String> MODEL_TYPES = Set.of("llama", "mistral", "qwen2");

  public final String modelType;
  public final int vocabSize;
  public final int hiddenSize;
  public final int intermediateSize;
  public final int numLayers;
  public final int numHeads;
  public final int numKvHeads;
  public final int headDim;
  public final double ropeTheta;
  public final float rmsNormEps;
  public final boolean tieWordEmbeddings;
  /** Biases on q_proj, k_proj, v_proj (always for qwen2; llama's attention_bias also adds o_proj). */
  public final boolean qkvBias;
  public final boolean oBias;
  public final boolean mlpBias;
  public final int maxPositionEmbeddings;
  public final int bosTokenId;
  public final List<Integer> eosTokenIds;
  private final ObjectNode raw;

  private ModelConfig(ObjectNode raw, String source) {
    this.raw = raw;
    Reader r = new Reader(raw, source);
    modelType = r.string("model_type");
    if (!MODEL_TYPES.contains(modelType)) {
      throw new ModelConfigException(
          source + ": model_type '" + modelType + "' is not supported; retain runs "
              + String.join(", ", MODEL_TYPES.stream().sorted().toList())
              + " (decoder-only Llama-family models)");
    }
    vocabSize = r.positiveInt("vocab_size");
    hiddenSize = r.positiveInt("hidden_size");
    intermediateSize = r.positiveInt("intermediate_size");
    numLayers = r.positiveInt("num_hidden_layers");
    numHeads = r.positiveInt("num_attention_heads");
    numKvHeads = r.has("num_key_value_heads") ? r.positiveInt("num_key_value_heads") : numHeads;
    if (numHeads % numKvHeads != 0) {
      throw new ModelConfigException(source + ": num_attention_heads (" + numHeads
          + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
    }
    if (r.has("head_dim")) {
      headDim = r.positiveInt("head_dim");
    } else {
      if (hiddenSize % numHeads != 0) {
        throw new ModelConfigException(source + ": hidden_size (" + hiddenSize
            + ") is not divisible by num_attention_heads (" + numHeads + "); set head_dim");
      }
      headDim = hiddenSize / numHeads;
    }
    if (headDim % 2 != 0) {
      throw new ModelConfigException(source + ": head_dim " + headDim + " must be even for rotary embeddings");
    }
    ropeTheta = r.has("rope_theta") ? r.positiveDouble("rope_theta") : 10000.0;
    String epsKey = r.has("rms_norm_eps") ? "rms_norm_eps" : null;
    rmsNormEps = epsKey == null ? 1e-6f : (float) r.positiveDouble(epsKey);
    tieWordEmbeddings = r.has("tie_word_embeddings") ? r.bool("tie_word_embeddings") : false;
    maxPositionEmbeddings = r.has("max_position_embeddings") ? r.positiveInt("max_position_embeddings") : 2048;
    boolean attentionBias = r.has("attention_bias") && r.bool("attention_bias");
    qkvBias = modelType.equals("qwen2") || attentionBias;
    oBias = !modelType.equals("qwen2") && attentionBias;
    mlpBias = r.has("mlp_bias") && r.bool("mlp_bias");
    bosTokenId = r.has("bos_token_id") && !raw.get("bos_token_id").isNull() ? r.nonNegativeInt("bos_token_id") : -1;
    eosTokenIds = r.intOrList("eos_token_id");

    String act = r.has("hidden_act") ? r.string("hidden_act") : "silu";
    if (!act.equals("silu")) {
      throw new ModelConfigException(source + ": hidden_act '" + act + "' is not supported; retain implements the SwiGLU MLP with silu");
    }
    if (r.has("rope_scaling") && !raw.get("rope_scaling").isNull()) {
      throw new ModelConfigException(source + ": rope_scaling " + raw.get("rope_scaling")
          + " is not supported; retain implements plain rotary embeddings. Remove the key or set it to null only if the model was trained without scaling");
    }
    boolean slidingOn;
    if (modelType.equals("qwen2")) {
      slidingOn = r.has("use_sliding_window") && r.bool("use_sliding_window");
    } else {
      slidingOn = r.has("sliding_window") && !raw.get("sliding_window").isNull();
    }
    if (slidingOn) {
      throw new ModelConfigException(source + ": a sliding attention window is set ("
          + (modelType.equals("qwen2") ? "use_sliding_window: true" : "sliding_window: " + raw.get("sliding_window"))
          + ") and retain only implements full causal attention; set it to "
          + (modelType.equals("qwen2") ? "false" : "null") + " if sequences stay within the window");
    }
    for (int id : eosTokenIds) {
      if (id >= vocabSize) {
        throw new ModelConfigException(source + ": eos_token_id " + id + " is outside the vocabulary (vocab_size " + vocabSize + ")");
      }
    }
    if (bosTokenId >= vocabSize) {
      throw new ModelConfigException(source + ": bos_token_id " + bosTokenId + " is outside the vocabulary (vocab_size " + vocabSize + ")");
    }
  }

  /** Reads {@code dir/config.json}. */
  public static ModelConfig load(Path dir) throws IOException {
    Path file = Files.isDirectory(dir) ? dir.resolve("config.json") : dir;
    if (!Files.isRegularFile(file)) {
      throw new ModelConfigException(file + ": not found; a model folder needs a Hugging Face config.json");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ModelConfigException(file + ": not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (node == null || !node.isObject()) {
      throw new ModelConfigException(file + ": must hold a JSON object");
    }
    return new ModelConfig((ObjectNode) node, file.toString());
  }

  /** Parses a config from a JSON object (for configs built in code, e.g. by pretrain). */
  public static ModelConfig fromJson(ObjectNode node, String source) {
    return new ModelConfig(node.deepCopy(), source);
  }

  /** A Llama config with the usual defaults, for building models in code and in tests. */
  public static ObjectNode llamaJson(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.putArray("architectures").add("LlamaForCausalLM");
    n.put("model_type", "llama");
    n.put("vocab_size", vocab);
    n.put("hidden_size", hidden);
    n.put("intermediate_size", intermediate);
    n.put("num_hidden_layers", layers);
    n.put("num_attention_heads", heads);
    n.put("num_key_value_heads", kvHeads);
    n.put("hidden_act", "silu");
    n.put("max_position_embeddings", 2048);
    n.put("rms_norm_eps", 1e-6);
    n.put("rope_theta", 10000.0);
    n.putNull("rope_scaling");
    n.put("tie_word_embeddings", false);
    n.put("attention_bias", false);
    n.put("bos_token_id", 1);
    n.put("eos_token_id", 2);
    n.put("torch_dtype", "float32");
    return n;
  }

  /** The JSON to write next to saved weights: the original keys, unchanged. */
  public ObjectNode toJson() {
    return raw.deepCopy();
  }

  /** Number of query heads per KV head (1 without grouped-query attention). */
  public int kvGroups() {
    return numHeads / numKvHeads;
  }

  /** The dtype the checkpoint declares (torch_dtype), or float32. */
  public String torchDtype() {
    JsonNode n = raw.get("torch_dtype");
    return n != null && n.isTextual() ? n.asText() : "float32";
  }

  /** Helper that reads typed keys and names the key in every error. */
  private static final class Reader {
    private final ObjectNode node;
    private final String source;

    Reader(ObjectNode node, String source) {
      this.node = node;
      this.source = source;
    }

    boolean has(String key) {
      return node.has(key);
    }

    JsonNode require(String key) {
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        throw new ModelConfigException(source + ": required key '" + key + "' is missing");
      }
      return v;
    }

    String string(String key) {
      JsonNode v = require(key);
      if (!v.isTextual()) {
        throw new ModelConfigException(source + ": key '" + key + "' must be a string, got " + v);
      }
      return v.asText();
    }

    int positiveInt(String key) {
      int v = nonNegativeInt(key);
      if (v <= 0) {
        throw new ModelConfigException(source + ": key '" + key + "' must be a positive integer, got " + v);
      }
      return v;
    }

    int nonNegativeInt(String key) {
      JsonNode v = require(key);
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
        throw new ModelConfigException(source + ": key '" + key + "' must be a non-negative integer, got " + v);
      }
      return v.asInt();
    }

    double positiveDouble(String key) {
      JsonNode v = require(key);
      if (!v.isNumber() || !(v.asDouble() > 0)) {
        throw new ModelConfigException(source + ": key '" + key + "' must be a positive number, got " + v);
      }
      return v.asDouble();
    }

    boolean bool(String key) {
      JsonNode v = require(key);
      if (!v.isBoolean()) {
        throw new ModelConfigException(source + ": key '" + key + "' must be true or false, got " + v);
      }
      return v.asBoolean();
    }

    List<Integer> intOrList(String key) {
      List<Integer> out = new ArrayList<>();
      JsonNode v = node.get(key);
      if (v == null || v.isNull()) {
        return List.of();
      }
      if (v.isIntegralNumber() && v.asInt() >= 0) {
        out.add(v.asInt());
      } else if (v.isArray()) {
        for (JsonNode e : (ArrayNode) v) {
          if (!e.isIntegralNumber() || e.asInt() < 0) {
            throw new ModelConfigException(source + ": key '" + key + "' must be an integer or a list of integers, got " + v);
          }
          out.add(e.asInt());
        }
      } else {
        throw new ModelConfigException(source + ": key '" + key + "' must be an integer or a list of integers, got " + v);
      }
      return List.copyOf(out);
    }
  }
}
