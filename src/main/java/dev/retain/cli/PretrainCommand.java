package dev.retain.cli;

import dev.retain.train.Recipe;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** retain pretrain: train a new model from random initialisation. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
    description = {"Train a new model from random initialisation with the 'architecture' of the run config",
        "and its 'tokenizer'. Writes <output>/model in Hugging Face layout."})
final class PretrainCommand implements Callable<Integer> {
  @Mixin RunOptions options;

  @Override
  public Integer call() throws Exception {
    Recipe.run(options.load(), Recipe.Mode.PRETRAIN, options.existing(), System.out);
    return 0;
  }
}
