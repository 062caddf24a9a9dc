package dev.retain.cli;

import dev.retain.compare.Compare;
import dev.retain.compare.Methods;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * retain demo: the whole story on the bundled data and base model. It runs `retain compare` with
 * examples/demo.yaml and a preset that sizes the run: quick (the default, about 15 minutes on 2
 * cores), full (longer training, every probe item) or smoke (seconds; what CI runs).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Fine-tune the bundled base model on the bundled cardiovascular data with every method,",
        "measure general and domain knowledge before and after, and print the comparison."})
final class DemoCommand implements Callable<Integer> {
  /** Overrides per preset, applied on top of examples/demo.yaml. */
  static final Map<String, List<String>> PRESETS = Map.of(
      "quick", List.of(),
      "full", List.of("training.max_steps=", "training.epochs=3", "eval.limit=0", "eval.live_limit=100"),
      "smoke", List.of("training.max_steps=3", "eval.limit=4", "eval.every=0", "retention.ewc.samples=4",
          "data.sources.cardio.validation=", "data.sources.general.validation="));

  @Option(names = "--preset", defaultValue = "quick", description = "quick (default, ~15 min), full or smoke")
  String preset;

  @Option(names = "--methods", split = ",", description = "methods (default: all)")
  List<String> methods = new ArrayList<>(Methods.ALL);

  @Option(names = "--output", defaultValue = "runs/demo", description = "output folder (default ${DEFAULT-VALUE})")
  Path output;

  @Option(names = "--overwrite", description = "replace an earlier demo in the output folder")
  boolean overwrite;

  @Override
  public Integer call() throws Exception {
    Path home = Path.of(System.getProperty("retain.home", "."));
    Path config = home.resolve("examples/demo.yaml");
    if (!Files.isRegularFile(config)) {
      throw new Errors.UserException(config + " not found; run retain demo from the repository (./retain demo)");
    }
    Path base = home.resolve("models/retain-base");
    if (!Files.isRegularFile(base.resolve("model.safetensors"))) {
      throw new Errors.UserException(base + " has no model.safetensors: the bundled base model is missing. It is made with "
          + "./retain pretrain --config examples/base.yaml (see models/README.md)");
    }
    List<String> overrides = PRESETS.get(preset);
    if (overrides == null) {
      throw new Errors.UserException("--preset must be one of " + PRESETS.keySet() + ", got '" + preset + "'");
    }
    System.out.println("retain demo (" + preset + "): " + methods.size() + " methods on the bundled data; output " + output);
    Compare.run(new Compare.Options(config, overrides, methods, output, preset, overwrite, "-Xmx6g"), System.out);
    return 0;
  }
}
