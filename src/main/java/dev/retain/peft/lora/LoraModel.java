package dev.retain.peft.lora;

import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.Parameter;
import dev.retain.peft.Adapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA applied to a model (made by {@link Lora#apply} or {@link Lora#load}): the adapted layers,
 * their parameters, on/off, training mode, merge/unmerge and PEFT-format saving.
 */
public final class LoraModel implements Adapter {
  private final CausalLM model;
  private final LoraConfig config;
  private final Map<String, LoraLayer> layers;
  private final String baseModelNameOrPath;
  private boolean attached = true;

  LoraModel(CausalLM model, LoraConfig config, Map<String, LoraLayer> layers, String baseModelNameOrPath) {
    this.model = model;
    this.config = config;
    this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
    this.baseModelNameOrPath = baseModelNameOrPath;
  }

  @Override
  public String type() {
    return "lora";
  }

  public CausalLM model() {
    return model;
  }

  public LoraConfig config() {
    return config;
  }

  /** Adapted layers by module name (model.layers.0.self_attn.q_proj), in model order. */
  public Map<String, LoraLayer> layers() {
    return layers;
  }

  /** base_model_name_or_path as loaded (or given to apply); may be null. */
  public String baseModelNameOrPath() {
    return baseModelNameOrPath;
  }

  /** lora_A and lora_B of every adapted layer, in model order (A before B). */
  @Override
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (LoraLayer l : layers.values()) {
      out.addAll(l.parameters());
    }
    return out;
  }

  /** On: W x + scaling B A x; off: exactly W x (the base model, e.g. as the distillation teacher). */
  @Override
  public void setEnabled(boolean enabled) {
    for (LoraLayer l : layers.values()) {
      l.setEnabled(enabled);
    }
  }

  /** Dropout on (training) or off (evaluation); only matters when lora_dropout > 0. Off after load and apply. */
  @Override
  public void setTraining(boolean training) {
    for (LoraLayer l : layers.values()) {
      l.setTraining(training);
    }
  }

  public boolean merged() {
    return !layers.isEmpty() && layers.values().iterator().next().merged();
  }

  /**
   * Folds every adapter into its base weight (W += scaling B A) and stops the adapters' own
   * contribution: the model then computes the adapted function at base-model cost, and
   * {@code ModelSaver} writes the merged weights.
   */
  public void merge() {
    checkAttached();
    for (LoraLayer l : layers.values()) {
      l.merge();
    }
  }

  /** Undoes {@link #merge} (W -= scaling B A); base weights come back within float rounding. */
  public void unmerge() {
    checkAttached();
    for (LoraLayer l : layers.values()) {
      l.unmerge();
    }
  }

  /**
   * Merges and detaches the adapters from the model (PEFT's merge_and_unload): afterwards the model
   * is a plain model with merged weights and this handle is spent.
   */
  public void mergeAndUnload() {
    if (!merged()) {
      merge();
    }
    unload();
  }

  /** Detaches the adapters without merging: the model is the base model again; this handle is spent. */
  public void unload() {
    checkAttached();
    for (LoraLayer l : layers.values()) {
      if (l.base().adapter() == l) {
        l.base().setAdapter(null);
      }
    }
    attached = false;
  }

  private void checkAttached() {
    if (!attached) {
      throw new IllegalStateException("this LoRA was unloaded from its model");
    }
  }

  /**
   * Writes adapter_config.json and adapter_model.safetensors in PEFT 0.10's layout and key names,
   * atomically. Merged adapters are saved as their A and B (merging does not change them).
   */
  @Override
  public void save(Path dir, String baseModelNameOrPath) throws IOException {
    List<String> linearNames = new ArrayList<>();
    for (Linear l : model.linears().values()) {
      linearNames.add(l.name);
    }
    LoraIO.save(dir, this, baseModelNameOrPath != null ? baseModelNameOrPath : this.baseModelNameOrPath, linearNames);
  }

  /** Saves with the base_model_name_or_path recorded at load/apply time. */
  public void save(Path dir) throws IOException {
    save(dir, null);
  }
}
