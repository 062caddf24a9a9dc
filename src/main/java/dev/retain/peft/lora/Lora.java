package dev.retain.peft.lora;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.peft.AdapterException;
import dev.retain.peft.AdapterFiles;
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
 * Puts LoRA on a model: fresh from a {@link LoraConfig} and a seed ({@link #apply}), or from a PEFT
 * adapter folder ({@link #load}). Save with {@link LoraModel#save}.
 */
public final class Lora {
  private Lora() {}

  /**
   * Adds fresh LoRA layers (A Kaiming-uniform drawn from {@code seed}, B zero, so the model's
   * function is unchanged) to the linear layers {@code cfg} targets, makes their parameters
   * trainable and freezes every base weight.
   *
   * @throws IllegalArgumentException when the targets match nothing, name unknown modules or layers
   */
  public static LoraModel apply(CausalLM model, LoraConfig cfg, long seed) {
    return apply(model, cfg, seed, null);
  }

  /** As {@link #apply(CausalLM, LoraConfig, long)}, recording the base model's name for saving. */
  public static LoraModel apply(CausalLM model, LoraConfig cfg, long seed, String baseModelNameOrPath) {
    List<Linear> targets;
    try {
      targets = resolve(model, cfg, "LoRA config");
    } catch (AdapterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Map<String, LoraLayer> layers = new LinkedHashMap<>();
    for (Linear lin : targets) {
      int r = cfg.rankFor(lin.name);
      int in = (int) lin.inFeatures();
      int out = (int) lin.outFeatures();
      SplittableRandom rng = AdapterFiles.rng(seed, lin.name);
      Parameter a = Parameter.of(model.manager(), LoraLayer.nameA(lin.name), AdapterFiles.kaimingUniform(rng, r, in), r, in);
      Parameter b = Parameter.of(model.manager(), LoraLayer.nameB(lin.name), new float[out * r], out, r);
      layers.put(lin.name, new LoraLayer(lin, r, cfg.alphaFor(lin.name), cfg.useRslora(), cfg.dropout(), a, b));
    }
    return attach(model, cfg, layers, baseModelNameOrPath, true);
  }

  /** Loads a PEFT LoRA folder for inference (adapter frozen, as PEFT's is_trainable=False). */
  public static LoraModel load(Path dir, CausalLM model) throws AdapterException {
    return load(dir, model, false);
  }

  /**
   * Loads a PEFT LoRA folder (adapter_config.json + adapter_model.safetensors) onto {@code model}.
   * Everything is checked before the model is touched: peft_type, r, targets against the model's
   * layers, and every tensor's presence and shape; nothing unexpected may be in the file.
   *
   * @param trainable true: adapter parameters train and base weights are frozen (continue training)
   */
  public static LoraModel load(Path dir, CausalLM model, boolean trainable) throws AdapterException {
    ObjectNode json = AdapterFiles.readConfig(dir);
    Path cfgFile = dir.resolve(AdapterFiles.CONFIG);
    LoraIO.Parsed parsed = LoraIO.readConfig(cfgFile, json);
    LoraConfig cfg = parsed.config();
    List<Linear> targets = resolve(model, cfg, cfgFile.toString());
    Map<String, LoraLayer> layers = new LinkedHashMap<>();
    try (SafetensorsFile f = AdapterFiles.openWeights(dir)) {
      Set<String> expected = new LinkedHashSet<>();
      for (Linear lin : targets) {
        int r = cfg.rankFor(lin.name);
        long in = lin.inFeatures();
        long out = lin.outFeatures();
        String ka = LoraIO.PREFIX + LoraLayer.nameA(lin.name);
        String kb = LoraIO.PREFIX + LoraLayer.nameB(lin.name);
        AdapterFiles.checkTensor(f, ka, new long[] {r, in}, "r=" + r + " and the layer's in_features=" + in);
        AdapterFiles.checkTensor(f, kb, new long[] {out, r}, "r=" + r + " and the layer's out_features=" + out);
        expected.add(ka);
        expected.add(kb);
      }
      TreeSet<String> extra = new TreeSet<>(f.names());
      extra.removeAll(expected);
      if (!extra.isEmpty()) {
        throw new AdapterException(f.path() + ": " + extra.size() + " tensor(s) that " + AdapterFiles.CONFIG
            + " does not account for, e.g. '" + extra.first() + "' (target_modules " + cfg.targetModules()
            + (cfg.layersToTransform() == null ? "" : ", layers_to_transform " + cfg.layersToTransform())
            + "); is the config from a different adapter?");
      }
      for (Linear lin : targets) {
        int r = cfg.rankFor(lin.name);
        int in = (int) lin.inFeatures();
        int out = (int) lin.outFeatures();
        Parameter a = Parameter.of(model.manager(), LoraLayer.nameA(lin.name),
            AdapterFiles.readFloats(f, LoraIO.PREFIX + LoraLayer.nameA(lin.name)), r, in);
        Parameter b = Parameter.of(model.manager(), LoraLayer.nameB(lin.name),
            AdapterFiles.readFloats(f, LoraIO.PREFIX + LoraLayer.nameB(lin.name)), out, r);
        layers.put(lin.name, new LoraLayer(lin, r, cfg.alphaFor(lin.name), cfg.useRslora(), cfg.dropout(), a, b));
      }
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    } catch (AdapterException e) {
      for (LoraLayer l : layers.values()) {
        l.parameters().forEach(p -> p.data().close());
      }
      throw e;
    }
    return attach(model, cfg, layers, parsed.baseModelNameOrPath(), trainable);
  }

  private static LoraModel attach(CausalLM model, LoraConfig cfg, Map<String, LoraLayer> layers, String base,
      boolean trainable) {
    if (trainable) {
      for (Parameter p : model.parameters().values()) {
        p.setTrainable(false);
      }
    }
    for (LoraLayer l : layers.values()) {
      l.base().setAdapter(l);
      for (Parameter p : l.parameters()) {
        p.setTrainable(trainable);
      }
    }
    return new LoraModel(model, cfg, layers, base);
  }

  /**
   * The linear layers {@code cfg} selects, in model order; {@code source} names the config in errors.
   * Refuses names that match no layer, layer indices the model lacks, lm_head and layers that
   * already carry an adapter.
   */
  static List<Linear> resolve(CausalLM model, LoraConfig cfg, String source) throws AdapterException {
    Map<String, Linear> linears = model.linears();
    TargetModules t = cfg.targetModules();
    Set<String> shortNames = new LinkedHashSet<>();
    for (String n : linears.keySet()) {
      shortNames.add(n.substring(n.lastIndexOf('.') + 1));
    }
    if (t.kind() == TargetModules.Kind.NAMES && t.nameSet().contains("lm_head")) {
      throw new AdapterException(source + ": target_modules names lm_head; retain puts LoRA only on the decoder layers' "
          + "projections " + shortNames);
    }
    List<String> unknown = t.unmatchedNames(linears.keySet());
    if (!unknown.isEmpty()) {
      throw new AdapterException(source + ": target_modules " + unknown + " match no linear layer of this model; "
          + "its linear layers are " + shortNames + " in each of model.layers.0.." + (model.config.numLayers - 1));
    }
    if (cfg.layersToTransform() != null) {
      for (int i : cfg.layersToTransform()) {
        if (i >= model.config.numLayers) {
          throw new AdapterException(source + ": layers_to_transform names layer " + i + " but the model has "
              + model.config.numLayers + " layers (0.." + (model.config.numLayers - 1) + ")");
        }
      }
    }
    List<Linear> out = new ArrayList<>();
    for (Linear lin : linears.values()) {
      if (!t.matches(lin.name) || !cfg.transformsLayer(CausalLM.layerIndex(lin.name))) {
        continue;
      }
      if (lin.adapter() != null) {
        throw new AdapterException(source + ": " + lin.name + " already carries an adapter; load one LoRA per model "
            + "(merge the first one or start from the base model)");
      }
      out.add(lin);
    }
    if (out.isEmpty()) {
      throw new AdapterException(source + ": target_modules " + t + (cfg.layersToTransform() == null ? ""
          : " with layers_to_transform " + cfg.layersToTransform()) + " selects no linear layer of this model; its linear "
          + "layers are named like " + linears.keySet().iterator().next()
          + (t.kind() == TargetModules.Kind.REGEX ? " (a string target_modules is a regular expression that must match "
              + "the whole name; use a list for short names)" : ""));
    }
    return out;
  }
}
