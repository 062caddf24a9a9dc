package dev.retain.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.peft.bottleneck.Bottleneck;
import dev.retain.peft.lora.Lora;
import java.io.IOException;
import java.nio.file.Path;

/** Loads whichever adapter a folder holds: PEFT LoRA (peft_type) or retain's bottleneck (adapter_type). */
public final class AdapterFolder {
  private AdapterFolder() {}

  /** "lora" or "bottleneck", from adapter_config.json; errors name the file. */
  public static String detectType(Path dir) throws AdapterException {
    ObjectNode cfg = AdapterFiles.readConfig(dir);
    JsonNode peftType = cfg.get("peft_type");
    JsonNode adapterType = cfg.get("adapter_type");
    if (peftType != null && !peftType.isNull()) {
      return "lora"; // Lora.load refuses other PEFT methods with a message naming peft_type
    }
    if (adapterType != null && "bottleneck".equals(adapterType.asText())) {
      return "bottleneck";
    }
    Path file = dir.resolve(AdapterFiles.CONFIG);
    if (adapterType != null) {
      throw new AdapterException(file + ": adapter_type '" + adapterType.asText() + "' is unknown; retain reads "
          + "PEFT LoRA folders (peft_type LORA) and its own bottleneck adapters (adapter_type bottleneck)");
    }
    throw new AdapterException(file + ": has neither 'peft_type' (a PEFT adapter) nor 'adapter_type' (a retain "
        + "bottleneck adapter); is this an adapter folder?");
  }

  /**
   * Applies the adapter in {@code dir} to {@code model}.
   *
   * @param trainable whether the adapter's parameters train (false: inference, as PEFT's default)
   */
  public static Adapter load(CausalLM model, Path dir, boolean trainable) throws IOException {
    return switch (detectType(dir)) {
      case "lora" -> Lora.load(dir, model, trainable);
      default -> Bottleneck.load(dir, model, trainable);
    };
  }
}
