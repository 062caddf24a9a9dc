package dev.retain.peft.bottleneck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.TensorData;
import dev.retain.peft.AdapterException;
import dev.retain.peft.AdapterFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Puts bottleneck adapters after the MLP of decoder layers, fresh ({@link #apply}) or from a folder
 * ({@link #load}); the folder format (docs/adapters.md) is adapter_config.json with
 * {@code "adapter_type": "bottleneck"} and adapter_model.safetensors keyed by parameter name.
 */
public final class Bottleneck {
  public static final String ADAPTER_TYPE = "bottleneck";
  public static final int FORMAT_VERSION = 1;

  private Bottleneck() {}

  /**
   * Adds fresh adapters: down.weight U(-1/sqrt(hidden), 1/sqrt(hidden)) drawn from {@code seed}
   * (as nn.Linear), biases and up.weight zero, so the model's function is unchanged. The adapters
   * train; every base weight is frozen.
   */
  public static BottleneckModel apply(CausalLM model, BottleneckConfig cfg, long seed) {
    return apply(model, cfg, seed, null);
  }

  public static BottleneckModel apply(CausalLM model, BottleneckConfig cfg, long seed, String baseModelNameOrPath) {
    int hidden = model.config.hiddenSize;
    int k = cfg.bottleneckFor(hidden);
    List<Integer> layers;
    try {
      layers = layers(model, cfg, "bottleneck config");
    } catch (AdapterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Map<Integer, BottleneckAdapter> adapters = new LinkedHashMap<>();
    for (int i : layers) {
      String p = BottleneckAdapter.prefix(i);
      SplittableRandom rng = AdapterFiles.rng(seed, p);
      adapters.put(i, new BottleneckAdapter(i, cfg.activation(),
          Parameter.of(model.manager(), p + ".down.weight", AdapterFiles.kaimingUniform(rng, k, hidden), k, hidden),
          Parameter.of(model.manager(), p + ".down.bias", new float[k], k),
          Parameter.of(model.manager(), p + ".up.weight", new float[hidden * k], hidden, k),
          Parameter.of(model.manager(), p + ".up.bias", new float[hidden], hidden)));
    }
    return attach(model, cfg, k, adapters, baseModelNameOrPath, true);
  }

  /** Loads a bottleneck adapter folder for inference (frozen). */
  public static BottleneckModel load(Path dir, CausalLM model) throws AdapterException {
    return load(dir, model, false);
  }

  /** Loads a bottleneck adapter folder; {@code trainable} also freezes the base weights. */
  public static BottleneckModel load(Path dir, CausalLM model, boolean trainable) throws AdapterException {
    ObjectNode j = AdapterFiles.readConfig(dir);
    Path file = dir.resolve(AdapterFiles.CONFIG);
    JsonNode type = j.get("adapter_type");
    if (type == null || !ADAPTER_TYPE.equals(type.asText())) {
      throw new AdapterException(file + ": adapter_type is " + (type == null ? "missing" : "'" + type.asText() + "'")
          + "; a bottleneck adapter folder says \"adapter_type\": \"bottleneck\"");
    }
    int version = intKey(file, j, "format_version");
    if (version != FORMAT_VERSION) {
      throw new AdapterException(file + ": format_version " + version + " is not supported (this build reads "
          + FORMAT_VERSION + "); use a newer retain");
    }
    int hidden = intKey(file, j, "hidden_size");
    if (hidden != model.config.hiddenSize) {
      throw new AdapterException(file + ": hidden_size " + hidden + " does not match the model's " + model.config.hiddenSize
          + "; the adapter was trained on a different base model");
    }
    int k = intKey(file, j, "bottleneck_size");
    int reduction = j.hasNonNull("reduction_factor") ? intKey(file, j, "reduction_factor")
        : BottleneckConfig.DEFAULT_REDUCTION;
    BottleneckConfig cfg;
    try {
      JsonNode act = j.get("activation");
      cfg = new BottleneckConfig(reduction, k, BottleneckConfig.Activation.parse(act == null || act.isNull() ? "silu" : act.asText()),
          layerList(file, j.get("layers")));
    } catch (IllegalArgumentException e) {
      throw new AdapterException(file + ": " + e.getMessage(), e);
    }
    if (k <= 0) {
      throw new AdapterException(file + ": bottleneck_size must be a positive integer, got " + k);
    }
    List<Integer> layers = layers(model, cfg, file.toString());
    Map<Integer, BottleneckAdapter> adapters = new LinkedHashMap<>();
    try (SafetensorsFile f = AdapterFiles.openWeights(dir)) {
      Map<String, long[]> expected = new LinkedHashMap<>();
      for (int i : layers) {
        String p = BottleneckAdapter.prefix(i);
        expected.put(p + ".down.weight", new long[] {k, hidden});
        expected.put(p + ".down.bias", new long[] {k});
        expected.put(p + ".up.weight", new long[] {hidden, k});
        expected.put(p + ".up.bias", new long[] {hidden});
      }
      for (Map.Entry<String, long[]> e : expected.entrySet()) {
        AdapterFiles.checkTensor(f, e.getKey(), e.getValue(), "bottleneck_size=" + k + " and hidden_size=" + hidden);
      }
      TreeSet<String> extra = new TreeSet<>(f.names());
      extra.removeAll(expected.keySet());
      if (!extra.isEmpty()) {
        throw new AdapterException(f.path() + ": " + extra.size() + " tensor(s) that " + AdapterFiles.CONFIG
            + " does not account for, e.g. '" + extra.first() + "' (layers " + layers + ")");
      }
      for (int i : layers) {
        String p = BottleneckAdapter.prefix(i);
        Parameter[] ps = new Parameter[4];
        String[] names = {".down.weight", ".down.bias", ".up.weight", ".up.bias"};
        for (int n = 0; n < 4; n++) {
          String name = p + names[n];
          ps[n] = Parameter.of(model.manager(), name, AdapterFiles.readFloats(f, name), expected.get(name));
        }
        adapters.put(i, new BottleneckAdapter(i, cfg.activation(), ps[0], ps[1], ps[2], ps[3]));
      }
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    }
    JsonNode base = j.get("base_model_name_or_path");
    return attach(model, cfg, k, adapters, base == null || base.isNull() ? null : base.asText(), trainable);
  }

  static void save(Path dir, BottleneckModel m, String baseModelNameOrPath) throws IOException {
    ObjectNode j = Json.MAPPER.createObjectNode();
    j.put("adapter_type", ADAPTER_TYPE);
    j.put("format_version", FORMAT_VERSION);
    j.put("base_model_name_or_path", baseModelNameOrPath);
    j.put("hidden_size", m.model().config.hiddenSize);
    j.put("reduction_factor", m.config().reductionFactor());
    j.put("bottleneck_size", m.bottleneckSize());
    j.put("activation", m.config().activation().id());
    ArrayNode layers = j.putArray("layers");
    m.adapters().keySet().forEach(layers::add);
    j.put("placement", "after_mlp");
    List<TensorData> tensors = new ArrayList<>();
    for (Parameter p : m.parameters()) {
      tensors.add(AdapterFiles.tensor(p.name(), p));
    }
    AdapterFiles.writeFolder(dir, j, tensors);
  }

  private static BottleneckModel attach(CausalLM model, BottleneckConfig cfg, int k, Map<Integer, BottleneckAdapter> adapters,
      String base, boolean trainable) {
    if (trainable) {
      for (Parameter p : model.parameters().values()) {
        p.setTrainable(false);
      }
    }
    for (BottleneckAdapter a : adapters.values()) {
      model.layers.get(a.layer()).setMlpAdapter(a);
      for (Parameter p : a.parameters()) {
        p.setTrainable(trainable);
      }
    }
    return new BottleneckModel(model, cfg, k, adapters, base);
  }

  private static List<Integer> layers(CausalLM model, BottleneckConfig cfg, String source) throws AdapterException {
    int n = model.config.numLayers;
    if (cfg.layers() != null) {
      for (int i : cfg.layers()) {
        if (i >= n) {
          throw new AdapterException(source + ": layers names layer " + i + " but the model has " + n + " layers (0.."
              + (n - 1) + ")");
        }
      }
    }
    Set<Integer> out = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      if (cfg.adaptsLayer(i)) {
        if (model.layers.get(i).mlpAdapter() != null) {
          throw new AdapterException(source + ": model.layers." + i + " already has an MLP adapter");
        }
        out.add(i);
      }
    }
    return new ArrayList<>(out);
  }

  private static List<Integer> layerList(Path file, JsonNode n) throws AdapterException {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isArray()) {
      throw new AdapterException(file + ": key 'layers' must be a list of layer indices, got " + n);
    }
    List<Integer> out = new ArrayList<>();
    for (JsonNode v : n) {
      if (!v.isIntegralNumber()) {
        throw new AdapterException(file + ": key 'layers' must hold integers, found " + v);
      }
      out.add(v.intValue());
    }
    return out;
  }

  private static int intKey(Path file, JsonNode j, String key) throws AdapterException {
    JsonNode n = j.get(key);
    if (n == null || n.isNull()) {
      throw new AdapterException(file + ": key '" + key + "' is missing");
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new AdapterException(file + ": key '" + key + "' must be an integer, got " + n);
    }
    return n.intValue();
  }
}
