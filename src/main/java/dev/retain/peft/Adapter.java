package dev.retain.peft;

import dev.retain.model.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** An adapter applied to a model: LoRA ({@code LoraModel}) or bottleneck ({@code BottleneckModel}). */
public interface Adapter {
  /** "lora" or "bottleneck". */
  String type();

  /** The adapter's parameters under their names (the model's namespace), in a stable order. */
  List<Parameter> parameters();

  /** The names of {@link #parameters()}, in the same order (for ParamSelector, ParameterReport, Trainer). */
  default Set<String> parameterNames() {
    Set<String> names = new LinkedHashSet<>();
    for (Parameter p : parameters()) {
      names.add(p.name());
    }
    return names;
  }

  /** Number of adapter weights. */
  default long numParameters() {
    return parameters().stream().mapToLong(Parameter::numel).sum();
  }

  /** On: the adapted function; off: exactly the base model's function (the distillation teacher). */
  void setEnabled(boolean enabled);

  /**
   * Training mode (LoRA dropout active when lora_dropout > 0) or evaluation mode. Off after apply and
   * load: the training loop turns it on for its steps and off for evaluation and teacher passes.
   * Bottleneck adapters have no dropout; for them this does nothing.
   */
  default void setTraining(boolean training) {}

  /** Marks the adapter parameters trainable (or frozen). */
  default void setTrainable(boolean trainable) {
    for (Parameter p : parameters()) {
      p.setTrainable(trainable);
    }
  }

  /**
   * Writes the adapter folder (adapter_config.json + adapter_model.safetensors) atomically: it is
   * built beside {@code dir} and renamed into place, replacing an existing folder only once complete.
   *
   * @param baseModelNameOrPath recorded as base_model_name_or_path; null keeps the value the adapter
   *     was loaded with (or writes null)
   */
  void save(Path dir, String baseModelNameOrPath) throws IOException;
}
