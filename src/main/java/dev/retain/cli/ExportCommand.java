package dev.retain.cli;

import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.ModelSaver;
import dev.retain.peft.Adapter;
import dev.retain.peft.bottleneck.BottleneckModel;
import dev.retain.peft.lora.LoraModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** retain export: a LoRA merged into a Hugging Face model, or an adapter folder re-written. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {
      "Export an adapter. --merged writes a Hugging Face model folder with the LoRA",
      "merged into the base weights (tokenizer files copied from --model); --peft",
      "re-writes the LoRA folder in PEFT's layout (normalised adapter_config.json).",
      "Bottleneck adapters add layers: they cannot be merged and have no PEFT form."
    })
final class ExportCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "BASE", description = "base model folder (config.json, *.safetensors)")
  Path model;

  @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "adapter folder (PEFT LoRA, or retain bottleneck)")
  Path adapter;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  static final class Target {
    @Option(names = "--merged", paramLabel = "OUT", description = "write the merged model (Hugging Face layout) here")
    Path merged;

    @Option(names = "--peft", paramLabel = "OUT", description = "write the LoRA adapter (PEFT layout) here")
    Path peft;
  }

  @Option(names = "--overwrite", description = "replace OUT if it already exists")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    Path out = target.merged != null ? target.merged : target.peft;
    if (Files.exists(out) && !overwrite) {
      throw new Errors.UserException(out + ": already exists; add --overwrite to replace it, or choose another folder");
    }
    if (target.merged != null && same(out, model)) {
      throw new Errors.UserException(out + ": is the base model folder; write the merged model to a new folder");
    }
    try (CausalLM lm = ModelLoader.load(model)) {
      Adapter a = Adapters.apply(lm, adapter);
      if (a instanceof BottleneckModel) {
        throw new Errors.UserException(adapter + ": is a bottleneck adapter; bottleneck adapters add layers to the model, "
            + "so they cannot be merged into its weights (--merged) and have no PEFT form (--peft). Use the folder as it "
            + "is with --adapter");
      }
      LoraModel lora = (LoraModel) a;
      if (target.merged != null) {
        lora.mergeAndUnload();
        ModelSaver.save(lm, out, ModelLoader.storedDtype(lm.config), model);
        System.out.printf("wrote %s: %d LoRA layer(s) merged into the weights of %s%n", out, lora.layers().size(), model);
      } else {
        lora.save(out, lora.baseModelNameOrPath() != null ? lora.baseModelNameOrPath() : model.toString());
        System.out.printf("wrote %s: LoRA r=%d on %d layer(s), %,d parameters%n", out, lora.config().r(),
            lora.layers().size(), lora.numParameters());
      }
    }
    return 0;
  }

  private static boolean same(Path a, Path b) {
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (java.io.IOException e) {
      return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
  }
}
