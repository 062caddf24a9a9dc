package dev.retain.cli;

import dev.retain.model.CausalLM;
import java.nio.file.Path;

/** Applies an adapter folder given on the command line (filled in by the PEFT work). */
final class Adapters {
  private Adapters() {}

  static void apply(CausalLM model, Path dir) {
    if (dir != null) {
      throw new Errors.UserException("--adapter " + dir + ": adapters are not supported in this build yet");
    }
  }
}
