package dev.retain.cli;

import dev.retain.model.CausalLM;
import dev.retain.peft.Adapter;
import dev.retain.peft.AdapterFolder;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Applies an adapter folder given on the command line (--adapter): a PEFT LoRA folder or a retain
 * bottleneck folder, told apart by adapter_config.json. Errors are IOExceptions whose message names
 * the file and key, so the command line prints one line and exits with code 2.
 */
final class Adapters {
  private Adapters() {}

  /** Loads the adapter in {@code dir} onto {@code model} for inference; null dir does nothing and returns null. */
  static Adapter apply(CausalLM model, Path dir) throws IOException {
    if (dir == null) {
      return null;
    }
    return AdapterFolder.load(model, dir, false);
  }
}
