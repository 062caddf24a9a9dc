package dev.retain.cli;

import dev.retain.compare.Compare;
import dev.retain.compare.Methods;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** retain compare: every method on the same data and seed, and the method-by-method report. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Train every method (naive, replay, staged, ewc, lora, adapters, distill, replay+distill, all) on the same data",
        "and seed, measure the probes before and after, and write report.md, report.json and report.html."})
final class CompareCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "run configuration (YAML) shared by every method")
  Path config;

  @Option(names = "--methods", split = ",", description = "methods to run (default: all of ${DEFAULT-VALUE})",
      defaultValue = "naive,replay,staged,ewc,lora,adapters,distill,all")
  List<String> methods;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config key for every method (repeatable)")
  List<String> set = new ArrayList<>();

  @Option(names = "--output", description = "output folder (default: the config's output)")
  Path output;

  @Option(names = "--overwrite", description = "replace method outputs already in the folder")
  boolean overwrite;

  @Option(names = "--java-options", defaultValue = "-Xmx6g", description = "JVM options of each method's process (default ${DEFAULT-VALUE})")
  String javaOptions;

  @Override
  public Integer call() throws Exception {
    for (String m : methods) {
      if (!Methods.ALL.contains(m)) {
        throw new Errors.UserException("--methods: unknown method '" + m + "'; choose from " + String.join(", ", Methods.ALL));
      }
    }
    Compare.run(new Compare.Options(config, set, methods, output, "custom", overwrite, javaOptions), System.out);
    return 0;
  }
}
