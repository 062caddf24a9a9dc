package dev.retain.cli;

import dev.retain.model.CausalLM;
import dev.retain.model.Generator;
import dev.retain.model.ModelLoader;
import dev.retain.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the model's continuation of a prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Continue a prompt with the model (greedy by default; KV cache).")
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "model folder with config.json, *.safetensors and tokenizer.json")
  Path model;

  @Option(names = "--adapter", description = "adapter folder to apply (PEFT LoRA or bottleneck)")
  Path adapter;

  @Option(names = "--tokenizer", description = "tokenizer.json to use (default: the one in --model)")
  Path tokenizer;

  @Option(names = "--prompt", required = true, description = "text to continue")
  String prompt;

  @Option(names = "--max-new-tokens", defaultValue = "64", description = "at most this many new tokens (default ${DEFAULT-VALUE})")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy; > 0 samples (default ${DEFAULT-VALUE})")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling mass (default ${DEFAULT-VALUE})")
  double topP;

  @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--no-bos", description = "do not put the bos token before the prompt")
  boolean noBos;

  @Override
  public Integer call() throws Exception {
    if (maxNewTokens < 0) {
      throw new Errors.UserException("--max-new-tokens must be >= 0, got " + maxNewTokens);
    }
    if (temperature < 0) {
      throw new Errors.UserException("--temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new Errors.UserException("--top-p must be in (0, 1], got " + topP);
    }
    try (CausalLM lm = ModelLoader.load(model);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model)) {
      tok.checkFits(lm.config, model);
      Adapters.apply(lm, adapter);
      int[] body = tok.encode(prompt);
      List<Integer> ids = new ArrayList<>();
      if (!noBos && lm.config.bosTokenId >= 0) {
        ids.add(lm.config.bosTokenId);
      }
      for (int id : body) {
        ids.add(id);
      }
      int[] promptIds = ids.stream().mapToInt(Integer::intValue).toArray();
      int[] out = Generator.generate(lm, promptIds,
          new Generator.Sampling(maxNewTokens, temperature, topP, seed, lm.config.eosTokenIds), true);
      System.out.println(tok.decode(out));
    }
    return 0;
  }
}
