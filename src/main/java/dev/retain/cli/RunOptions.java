package dev.retain.cli;

import dev.retain.config.ConfigBinder;
import dev.retain.train.Recipe;
import dev.retain.train.RunConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options shared by train and pretrain: the run YAML, overrides and what to do with an existing output. */
final class RunOptions {
  @Option(names = {"-c", "--config"}, required = true, description = "run configuration (YAML); keys in docs/config.md")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "override a config key, e.g. --set training.lr=1e-4 (repeatable)")
  List<String> set = new ArrayList<>();

  @Option(names = "--output", description = "override 'output'")
  String output;

  @Option(names = "--epochs", description = "override training.epochs")
  Integer epochs;

  @Option(names = "--max-steps", description = "override training.max_steps")
  Integer maxSteps;

  @Option(names = "--lr", description = "override training.lr")
  String lr;

  @Option(names = "--seed", description = "override seed")
  Long seed;

  @Option(names = "--skip-bad-lines", description = "skip malformed JSONL lines (counted) instead of stopping")
  boolean skipBadLines;

  @Option(names = "--resume", description = "continue the run in the output folder from its latest checkpoint")
  boolean resume;

  @Option(names = "--overwrite", description = "replace a run already in the output folder")
  boolean overwrite;

  RunConfig load() {
    List<String> overrides = new ArrayList<>(set);
    if (output != null) {
      overrides.add("output=" + output);
    }
    if (epochs != null) {
      overrides.add("training.epochs=" + epochs);
    }
    if (maxSteps != null) {
      overrides.add("training.max_steps=" + maxSteps);
    }
    if (lr != null) {
      overrides.add("training.lr=" + lr);
    }
    if (skipBadLines) {
      overrides.add("data.skip_bad_lines=true");
    }
    if (seed != null) {
      overrides.add("seed=" + seed);
    }
    return ConfigBinder.load(config, RunConfig.class, overrides);
  }

  Recipe.Existing existing() {
    if (resume && overwrite) {
      throw new Errors.UserException("--resume and --overwrite exclude each other");
    }
    return resume ? Recipe.Existing.RESUME : overwrite ? Recipe.Existing.OVERWRITE : Recipe.Existing.REFUSE;
  }
}
