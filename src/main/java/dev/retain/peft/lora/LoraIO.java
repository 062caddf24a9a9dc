package dev.retain.peft.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.safetensors.TensorData;
import dev.retain.peft.AdapterException;
import dev.retain.peft.AdapterFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** PEFT 0.10's adapter_config.json for LoRA, read leniently where PEFT is and strictly where retain must be. */
final class LoraIO {
  /** PEFT's prefix of every key in adapter_model.safetensors for a CAUSAL_LM PeftModel. */
  static final String PREFIX = "base_model.model.";

  /** PEFT's default targets for llama, mistral and qwen2 when target_modules is null. */
  static final List<String> DEFAULT_TARGETS = List.of("q_proj", "v_proj");

  private LoraIO() {}

  /** The config an adapter_config.json describes, plus its base_model_name_or_path. */
  record Parsed(LoraConfig config, String baseModelNameOrPath) {}

  static Parsed readConfig(Path file, ObjectNode j) throws AdapterException {
    JsonNode type = j.get("peft_type");
    if (type == null || type.isNull()) {
      throw new AdapterException(file + ": key 'peft_type' is missing; a PEFT LoRA adapter says \"peft_type\": \"LORA\"");
    }
    if (!"LORA".equals(type.asText())) {
      throw new AdapterException(file + ": peft_type is '" + type.asText() + "'; retain reads LoRA adapters "
          + "(peft_type LORA) and its own bottleneck adapters, not other PEFT methods");
    }
    int r = intKey(file, j, "r", LoraConfig.DEFAULT_R);
    if (r <= 0) {
      throw new AdapterException(file + ": key 'r' must be a positive integer, got " + r);
    }
    double alpha = numberKey(file, j, "lora_alpha", 8);
    if (!(alpha > 0) || !Double.isFinite(alpha)) {
      throw new AdapterException(file + ": key 'lora_alpha' must be a positive number, got " + j.get("lora_alpha"));
    }
    double dropout = numberKey(file, j, "lora_dropout", 0);
    if (!(dropout >= 0 && dropout < 1)) {
      throw new AdapterException(file + ": key 'lora_dropout' must be in [0, 1), got " + dropout);
    }
    boolean rslora = boolKey(file, j, "use_rslora", false);
    refuse(file, j, "use_dora", boolKey(file, j, "use_dora", false), "DoRA adapters (use_dora true) are not supported");
    refuse(file, j, "fan_in_fan_out", boolKey(file, j, "fan_in_fan_out", false),
        "fan_in_fan_out true is for GPT-2 style Conv1D layers, which Llama-family models do not have");
    JsonNode bias = j.get("bias");
    if (bias != null && !bias.isNull() && !"none".equals(bias.asText())) {
      throw new AdapterException(file + ": bias is '" + bias.asText() + "'; retain supports only bias \"none\" (LoRA that "
          + "trains no biases)");
    }
    JsonNode mts = j.get("modules_to_save");
    if (mts != null && !mts.isNull() && !(mts.isArray() && mts.isEmpty())) {
      throw new AdapterException(file + ": modules_to_save " + mts + " is not supported (it stores full copies of "
          + "modules beside the LoRA); remove it or merge those modules into the base model");
    }
    JsonNode rep = j.get("layer_replication");
    if (rep != null && !rep.isNull()) {
      throw new AdapterException(file + ": layer_replication is not supported");
    }
    JsonNode lp = j.get("layers_pattern");
    if (lp != null && !lp.isNull()) {
      boolean ok = lp.isTextual() ? lp.asText().equals("layers")
          : lp.isArray() && lp.size() == 1 && lp.get(0).asText().equals("layers");
      if (!ok) {
        throw new AdapterException(file + ": layers_pattern " + lp + " does not name this model's layer list; Llama-family "
            + "models keep their layers under 'layers'");
      }
    }
    TargetModules targets = targets(file, j.get("target_modules"));
    List<Integer> layers = layers(file, j.get("layers_to_transform"));
    Map<String, Integer> rankPattern = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : entries(file, j, "rank_pattern")) {
      if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
        throw new AdapterException(file + ": rank_pattern['" + e.getKey() + "'] must be an integer, got " + e.getValue());
      }
      rankPattern.put(e.getKey(), e.getValue().intValue());
    }
    Map<String, Double> alphaPattern = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : entries(file, j, "alpha_pattern")) {
      if (!e.getValue().isNumber()) {
        throw new AdapterException(file + ": alpha_pattern['" + e.getKey() + "'] must be a number, got " + e.getValue());
      }
      alphaPattern.put(e.getKey(), e.getValue().doubleValue());
    }
    JsonNode base = j.get("base_model_name_or_path");
    try {
      return new Parsed(new LoraConfig(r, alpha, dropout, rslora, targets, layers, rankPattern, alphaPattern),
          base == null || base.isNull() ? null : base.asText());
    } catch (IllegalArgumentException e) {
      throw new AdapterException(file + ": " + e.getMessage(), e);
    }
  }

  private static void refuse(Path file, JsonNode j, String key, boolean bad, String why) throws AdapterException {
    if (bad) {
      throw new AdapterException(file + ": key '" + key + "': " + why);
    }
  }

  private static TargetModules targets(Path file, JsonNode t) throws AdapterException {
    try {
      if (t == null || t.isNull()) {
        return TargetModules.names(DEFAULT_TARGETS);
      }
      if (t.isTextual()) {
        return TargetModules.regex(t.asText());
      }
      if (t.isArray()) {
        List<String> names = new ArrayList<>();
        for (JsonNode n : t) {
          if (!n.isTextual()) {
            throw new AdapterException(file + ": target_modules must hold module names (strings), found " + n);
          }
          names.add(n.asText());
        }
        return TargetModules.names(names);
      }
    } catch (IllegalArgumentException e) {
      throw new AdapterException(file + ": " + e.getMessage(), e);
    }
    throw new AdapterException(file + ": target_modules must be a list of module names or a regular expression string, got " + t);
  }

  private static List<Integer> layers(Path file, JsonNode n) throws AdapterException {
    if (n == null || n.isNull()) {
      return null;
    }
    List<Integer> out = new ArrayList<>();
    if (n.isIntegralNumber()) {
      out.add(n.intValue());
    } else if (n.isArray()) {
      for (JsonNode v : n) {
        if (!v.isIntegralNumber()) {
          throw new AdapterException(file + ": layers_to_transform must hold layer indices (integers), found " + v);
        }
        out.add(v.intValue());
      }
    } else {
      throw new AdapterException(file + ": layers_to_transform must be an integer or a list of integers, got " + n);
    }
    for (int i : out) {
      if (i < 0) {
        throw new AdapterException(file + ": layers_to_transform holds " + i + "; layer indices are >= 0");
      }
    }
    if (out.isEmpty()) {
      throw new AdapterException(file + ": layers_to_transform is an empty list; use null to adapt every layer");
    }
    return out;
  }

  private static List<Map.Entry<String, JsonNode>> entries(Path file, JsonNode j, String key) throws AdapterException {
    JsonNode n = j.get(key);
    List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw new AdapterException(file + ": key '" + key + "' must be an object, got " + n);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  private static int intKey(Path file, JsonNode j, String key, int def) throws AdapterException {
    JsonNode n = j.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new AdapterException(file + ": key '" + key + "' must be an integer, got " + n);
    }
    return n.intValue();
  }

  private static double numberKey(Path file, JsonNode j, String key, double def) throws AdapterException {
    JsonNode n = j.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isNumber()) {
      throw new AdapterException(file + ": key '" + key + "' must be a number, got " + n);
    }
    return n.doubleValue();
  }

  private static boolean boolKey(Path file, JsonNode j, String key, boolean def) throws AdapterException {
    JsonNode n = j.get(key);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isBoolean()) {
      throw new AdapterException(file + ": key '" + key + "' must be true or false, got " + n);
    }
    return n.booleanValue();
  }

  /** A number as PEFT writes it: an integer when integral (lora_alpha 16), else a float. */
  private static JsonNode number(double v) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return f.numberNode((long) v);
    }
    return f.numberNode(v);
  }

  /** adapter_config.json with exactly the keys PEFT 0.10 writes for LoRA, sorted as it sorts them. */
  static ObjectNode configJson(LoraConfig c, String baseModelNameOrPath, List<String> linearNames) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    TreeMap<String, JsonNode> m = new TreeMap<>();
    ObjectNode alphaPattern = f.objectNode();
    c.alphaPattern().forEach((k, v) -> alphaPattern.set(k, number(v)));
    m.put("alpha_pattern", alphaPattern);
    m.put("auto_mapping", f.nullNode());
    m.put("base_model_name_or_path", baseModelNameOrPath == null ? f.nullNode() : f.textNode(baseModelNameOrPath));
    m.put("bias", f.textNode("none"));
    m.put("fan_in_fan_out", f.booleanNode(false));
    m.put("inference_mode", f.booleanNode(true));
    m.put("init_lora_weights", f.booleanNode(true));
    m.put("layer_replication", f.nullNode());
    m.put("layers_pattern", f.nullNode());
    if (c.layersToTransform() == null) {
      m.put("layers_to_transform", f.nullNode());
    } else {
      ArrayNode a = f.arrayNode();
      c.layersToTransform().forEach(a::add);
      m.put("layers_to_transform", a);
    }
    m.put("loftq_config", f.objectNode());
    m.put("lora_alpha", number(c.alpha()));
    m.put("lora_dropout", f.numberNode(c.dropout()));
    m.put("megatron_config", f.nullNode());
    m.put("megatron_core", f.textNode("megatron.core"));
    m.put("modules_to_save", f.nullNode());
    m.put("peft_type", f.textNode("LORA"));
    m.put("r", f.numberNode(c.r()));
    ObjectNode rankPattern = f.objectNode();
    c.rankPattern().forEach(rankPattern::put);
    m.put("rank_pattern", rankPattern);
    m.put("revision", f.nullNode());
    Object saved = c.targetModules().toSaved(linearNames);
    if (saved instanceof String s) {
      m.put("target_modules", f.textNode(s));
    } else {
      ArrayNode a = f.arrayNode();
      for (Object o : (List<?>) saved) {
        a.add((String) o);
      }
      m.put("target_modules", a);
    }
    m.put("task_type", f.textNode("CAUSAL_LM"));
    m.put("use_dora", f.booleanNode(false));
    m.put("use_rslora", f.booleanNode(c.useRslora()));
    ObjectNode out = f.objectNode();
    m.forEach(out::set);
    return out;
  }

  static void save(Path dir, LoraModel lora, String baseModelNameOrPath, List<String> linearNames) throws IOException {
    List<TensorData> tensors = new ArrayList<>();
    for (LoraLayer l : lora.layers().values()) {
      tensors.add(AdapterFiles.tensor(PREFIX + LoraLayer.nameA(l.moduleName()), l.loraA()));
      tensors.add(AdapterFiles.tensor(PREFIX + LoraLayer.nameB(l.moduleName()), l.loraB()));
    }
    AdapterFiles.writeFolder(dir, configJson(lora.config(), baseModelNameOrPath, linearNames), tensors);
  }
}
