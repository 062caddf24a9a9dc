package dev.retain.cli;

import dev.retain.train.Recipe;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** retain train: fine-tune an existing model as the run YAML says. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Fine-tune an existing model with the protections the run config asks for.",
        "Writes <output>/model (Hugging Face layout), checkpoints/, metrics.jsonl and run.yaml."})
final class TrainCommand implements Callable<Integer> {
  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    Recipe.run(options.load(), Recipe.Mode.TRAIN, options.existing(), System.out);
    return 0;
  }
}
