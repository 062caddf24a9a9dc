package dev.retain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.config.SampleConfigs.Optimizer;
import dev.retain.config.SampleConfigs.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigBinderTest {
  static final String FULL = """
      name: demo
      seed: 7
      model:
        path: models/llama
        optimizer: Adam-W
      training:
        learning_rate: 1e-4
        epochs: 3
        max_steps: 1_000
        gradient_checkpointing: true
        dropouts: [0.0, 0.5]
        eval_steps:
          - 10
          - 20
      data:
        replay:
          ratio: 0.5
        val_fraction: 0.1
        sources:
          domain:
            path: data/domain.jsonl
            weight: 2
          general:
            path: data/general.jsonl
      stages:
        - name: warm
          steps: 10
        - name: main
          lr: 5e-5
      loss_weights:
        kl: 0.5
        ce: 1
      tags: [a, "yes"]
      lora:
        r: 16
      """;

  @TempDir Path tmp;
  ConfigFixture fx;

  @BeforeEach
  void setUp() {
    fx = new ConfigFixture(tmp);
  }

  @Test
  void bindsEveryFieldShape() {
    Run r = fx.load(FULL);
    assertEquals("demo", r.name);
    assertEquals(7L, r.seed);
    assertEquals(tmp.resolve("models/llama").toAbsolutePath().normalize(), r.model.path);
    assertEquals(Optimizer.ADAM_W, r.model.optimizer);
    assertEquals(1e-4, r.training.learningRate);
    assertEquals(3, r.training.epochs);
    assertEquals(1000, r.training.maxSteps);
    assertEquals(0, r.training.warmupSteps, "unlisted key keeps its default");
    assertTrue(r.training.gradientCheckpointing);
    assertEquals(List.of(0.0, 0.5), r.training.dropouts);
    assertEquals(List.of(10, 20), r.training.evalSteps);
    assertEquals(0.5, r.data.replay.ratio);
    assertEquals(0.1, r.data.validationFraction);
    assertEquals(List.of("domain", "general"), List.copyOf(r.data.sources.keySet()));
    assertEquals(2.0, r.data.sources.get("domain").weight);
    assertEquals(1.0, r.data.sources.get("general").weight);
    assertEquals(tmp.resolve("data/general.jsonl"), r.data.sources.get("general").path);
    assertEquals(2, r.stages.size());
    assertEquals("warm", r.stages.get(0).name);
    assertEquals(10, r.stages.get(0).steps);
    assertEquals(1e-4, r.stages.get(0).lr);
    assertEquals(5e-5, r.stages.get(1).lr);
    assertEquals(100, r.stages.get(1).steps);
    assertEquals(List.of("kl", "ce"), List.copyOf(r.lossWeights.keySet()), "map keeps YAML order");
    assertEquals(Map.of("kl", 0.5, "ce", 1.0), r.lossWeights);
    assertEquals(List.of("a", "yes"), r.tags);
    assertEquals(16, r.lora.r);
    assertEquals(16.0, r.lora.alpha);
  }

  @Test
  void absentOptionalValuesAreNullAndDefaultsStay() {
    Run r = fx.load(ConfigFixture.BASE);
    assertNull(r.lora);
    assertNull(r.training.maxSteps);
    assertEquals(3e-4, r.training.learningRate);
    assertEquals(List.of("default"), r.tags);
    assertEquals(Map.of("ce", 1.0), r.lossWeights);
    assertTrue(r.stages.isEmpty());
  }

  @Test
  void emptySectionMeansDefaultsAndMergeKeysWork() {
    Run r = fx.load(ConfigFixture.BASE + "lora:\nstages:\n  - &s {steps: 5, lr: 0.01}\n  - <<: *s\n    lr: 0.02\n");
    assertEquals(8, r.lora.r);
    assertEquals(5, r.stages.get(1).steps);
    assertEquals(0.02, r.stages.get(1).lr);
  }

  @Test
  void yamlSyntaxErrorNamesFileAndLine() {
    ConfigException e = fx.fail("name: demo\nmodel:\n  path: [models\ntraining:\n  epochs: 1\n");
    assertTrue(e.getMessage().startsWith(fx.f + ":"), e.getMessage());
    assertTrue(e.getMessage().contains("YAML syntax error"), e.getMessage());
    assertTrue(e.line() > 0);

    ConfigException tab = fx.fail("name: demo\nmodel:\n\tpath: x\n");
    assertEquals(3, tab.line(), tab.getMessage());
    assertTrue(tab.getMessage().contains("TAB"), tab.getMessage());
  }

  @Test
  void unknownKeySuggestsTheNearestKnownKey() {
    ConfigException e = fx.fail(ConfigFixture.BASE + "seed: 1\ntags: []\ntraining:\n  lerning_rate: 1e-4\n");
    assertEquals(fx.f + ":7: unknown key 'training.lerning_rate'; did you mean 'learning_rate'? Known keys here:"
        + " learning_rate, epochs, max_steps, warmup_steps, gradient_checkpointing, dropouts, eval_steps",
        e.getMessage());
    assertEquals("training.lerning_rate", e.keyPath());
    assertEquals(7, e.line());
    assertEquals(fx.f, e.file());
  }

  @Test
  void unknownKeyCamelCaseAndFarOffNames() {
    ConfigException camel = fx.fail(ConfigFixture.BASE + "training:\n  learningRate: 1\n");
    assertTrue(camel.getMessage().contains("did you mean 'learning_rate'?"), camel.getMessage());
    ConfigException far = fx.fail(ConfigFixture.BASE + "completely_unrelated: 1\n");
    assertTrue(far.getMessage().startsWith(fx.f + ":4: unknown key 'completely_unrelated'. Known keys here: name, seed,"),
        far.getMessage());
    assertFalse(far.getMessage().contains("did you mean"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "training:\\n  epochs: three | 5 | training.epochs must be an integer, got \"three\"",
    "training:\\n  epochs: 2.5 | 5 | training.epochs must be an integer, got \"2.5\"",
    "training:\\n  epochs: 99999999999 | 5 | training.epochs must be an integer between -2147483648 and 2147483647, got \"99999999999\"",
    "training:\\n  learning_rate: [1] | 5 | training.learning_rate must be a number, got a list",
    "training:\\n  learning_rate: fast | 5 | training.learning_rate must be a number, got \"fast\"",
    "training:\\n  gradient_checkpointing: yes | 5 | training.gradient_checkpointing must be true or false, got \"yes\"",
    "training:\\n  epochs: | 5 | training.epochs must be an integer, got nothing (null)",
    "training: 5 | 4 | training must be a mapping (key: value), got \"5\"",
    "training:\\n  - epochs: 1 | 4 | training must be a mapping (key: value), got a list",
    "tags: a | 4 | tags must be a list of strings, got \"a\"",
    "tags: {a: 1} | 4 | tags must be a list of strings, got a mapping",
    "tags: [a, [b]] | 4 | tags[1] must be a string, got a list",
    "stages: {name: x} | 4 | stages must be a list of mappings, got a mapping",
    "stages:\\n  - 3 | 5 | stages[0] must be a mapping (key: value), got \"3\"",
    "loss_weights: [1, 2] | 4 | loss_weights must be a mapping of names to numbers, got a list",
    "loss_weights:\\n  kl: high | 5 | loss_weights.kl must be a number, got \"high\"",
    "data:\\n  sources:\\n    domain: 3 | 6 | data.sources.domain must be a mapping (key: value), got \"3\"",
    "seed: 1.5e3 | 4 | seed must be an integer, got \"1.5e3\"",
  })
  void wrongTypes(String yaml, int line, String message) {
    ConfigException e = fx.fail(ConfigFixture.BASE + yaml.replace("\\n", "\n") + "\n");
    assertEquals(fx.f + ":" + line + ": " + message, e.getMessage());
  }

  @Test
  void enumMatchesLooselyAndListsAllowedValues() {
    assertEquals(Optimizer.SGD, fx.load(ConfigFixture.BASE + "  optimizer: SGD\n").model.optimizer);
    assertEquals(Optimizer.ADAM_W, fx.load(ConfigFixture.BASE + "  optimizer: adam_w\n").model.optimizer);
    ConfigException e = fx.fail(ConfigFixture.BASE + "  optimizer: adamw2\n");
    assertEquals(fx.f + ":4: model.optimizer must be one of adam_w, sgd, got \"adamw2\"; did you mean 'adam_w'?",
        e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "data:\\n  replay:\\n    ratio: 1.5 | 6 | data.replay.ratio must be in [0, 1), got 1.5",
    "data:\\n  replay:\\n    ratio: 1 | 6 | data.replay.ratio must be in [0, 1), got 1",
    "training:\\n  learning_rate: -1e-4 | 5 | training.learning_rate must be > 0, got -1e-4",
    "training:\\n  learning_rate: 0 | 5 | training.learning_rate must be > 0, got 0",
    "lora:\\n  r: 0 | 5 | lora.r must be > 0, got 0",
    "lora:\\n  r: -4 | 5 | lora.r must be > 0, got -4",
    "training:\\n  max_steps: 0 | 5 | training.max_steps must be >= 1, got 0",
    "training:\\n  dropouts: [0.1, 2] | 5 | training.dropouts[1] must be in [0, 1], got 2",
    "training:\\n  learning_rate: .nan | 5 | training.learning_rate must be > 0, got .nan",
    "loss_weights:\\n  ce: 1\\n  kl: -0.5 | 6 | loss_weights.kl must be >= 0, got -0.5",
  })
  void outOfRange(String yaml, int line, String message) {
    ConfigException e = fx.fail(ConfigFixture.BASE + yaml.replace("\\n", "\n") + "\n");
    assertEquals(fx.f + ":" + line + ": " + message, e.getMessage());
  }

  @Test
  void missingRequiredKeys() {
    ConfigException top = fx.fail("model:\n  path: models/llama\n");
    assertEquals(fx.f + ": missing required key 'name' (name of the run); add 'name: llama-domain-1' at the top level",
        top.getMessage());
    assertEquals(0, top.line());

    ConfigException nested = fx.fail("name: demo\nseed: 1\nmodel:\n  optimizer: sgd\n");
    assertEquals(fx.f + ":3: missing required key 'model.path' (folder of the base model);"
        + " add 'path: models/llama' under 'model'", nested.getMessage());

    ConfigException inMap = fx.fail(ConfigFixture.BASE + "data:\n  sources:\n    domain:\n      weight: 2\n");
    assertEquals(fx.f + ":6: missing required key 'data.sources.domain.path'; add 'path: <path>' under"
        + " 'data.sources.domain'", inMap.getMessage());

    ConfigException nul = fx.fail("name:\nmodel:\n  path: models/llama\n");
    assertEquals(fx.f + ":1: name is required but has no value; write e.g. 'name: llama-domain-1'", nul.getMessage());
  }

  @Test
  void mustExistNamesKeyAndResolvedPath() {
    ConfigException e = fx.fail("name: demo\nmodel:\n  path: models/nope\n");
    Path resolved = tmp.resolve("models/nope").toAbsolutePath().normalize();
    assertEquals(fx.f + ":3: model.path must be an existing file or folder, but " + resolved
        + " does not exist (written as \"models/nope\")", e.getMessage());
    assertEquals("model.path", e.keyPath());
  }

  @Test
  void duplicateKeysAreRefused() {
    ConfigException e = fx.fail(ConfigFixture.BASE + "training:\n  epochs: 1\n  epochs: 2\n");
    assertEquals(fx.f + ":6: duplicate key 'training.epochs' (first written on line 5); keep only one", e.getMessage());
    ConfigException top = fx.fail(ConfigFixture.BASE + "name: other\n");
    assertEquals(fx.f + ":4: duplicate key 'name' (first written on line 1); keep only one", top.getMessage());
    ConfigException inMap = fx.fail(ConfigFixture.BASE + "loss_weights: {ce: 1, ce: 2}\n");
    assertEquals(fx.f + ":4: duplicate key 'loss_weights.ce' (first written on line 4); keep only one",
        inMap.getMessage());
  }

  @Test
  void topLevelMustBeANonEmptyMapping() {
    assertEquals(fx.f + ":1: the top level must be a mapping of keys to values (key: value), got a list",
        fx.fail("- name: demo\n").getMessage());
    assertEquals(fx.f + ":1: the top level must be a mapping of keys to values (key: value), got \"hello\"",
        fx.fail("hello\n").getMessage());
    String empty = fx.f + ": the file is empty; expected a mapping of keys such as name, seed, model, training, data,"
        + " stages, loss_weights, tags, lora";
    assertEquals(empty, fx.fail("").getMessage());
    assertEquals(empty, fx.fail("# only a comment\n\n").getMessage());
    assertEquals(empty, fx.fail("---\n").getMessage());
  }

  @Test
  void missingFileIsReported() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigBinder.load(tmp.resolve("nope.yaml"), Run.class));
    assertTrue(e.getMessage().startsWith(tmp.resolve("nope.yaml") + ": no such file"), e.getMessage());
  }

  @Test
  void allErrorsAreCollectedAndSortedByLine() {
    ConfigException e = fx.fail("""
        model:
          optimizer: adam
        training:
          epochs: three
          lerning_rate: 1
        data:
          replay:
            ratio: 7
        stages:
          - steps: 0
        """);
    List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
    assertEquals(List.of(
        fx.f + ":1: missing required key 'model.path' (folder of the base model); add 'path: models/llama' under 'model'",
        fx.f + ":2: model.optimizer must be one of adam_w, sgd, got \"adam\"; did you mean 'adam_w'?",
        fx.f + ":4: training.epochs must be an integer, got \"three\"",
        fx.f + ":5: unknown key 'training.lerning_rate'; did you mean 'learning_rate'? Known keys here: learning_rate,"
            + " epochs, max_steps, warmup_steps, gradient_checkpointing, dropouts, eval_steps",
        fx.f + ":8: data.replay.ratio must be in [0, 1), got 7",
        fx.f + ":10: stages[0].steps must be >= 1, got 0",
        fx.f + ": missing required key 'name' (name of the run); add 'name: llama-domain-1' at the top level"),
        lines);
    assertTrue(e.getMessage().startsWith("7 configuration errors:\n  " + lines.get(0) + "\n  " + lines.get(1)),
        e.getMessage());
  }

  @Test
  void validatableRulesGetKeyPathsAndLines() {
    ConfigException e = fx.fail(ConfigFixture.BASE + """
        training:
          max_steps: 10
          warmup_steps: 20
        stages:
          - lr: 0.1
          - name: broken
            lr: 0
        """);
    assertEquals(List.of(
        fx.f + ":6: training.warmup_steps must be below training.max_steps (10)",
        fx.f + ":10: stages[1].lr must be > 0"),
        e.problems().stream().map(ConfigProblem::toString).toList());
    assertEquals("stages[1].lr", e.problems().get(1).keyPath());
  }

  @Test
  void validatableRulesMayUseAbsolutePathsAndStandAloneMessages() {
    ConfigException e = fx.fail(ConfigFixture.BASE + "data:\n  sources:\n    all:\n      path: data/domain.jsonl\n");
    assertEquals(fx.f + ":6: data.sources.all: the name 'all' is reserved; pick another", e.getMessage());
    assertEquals("data.sources.all", e.keyPath());
  }

  @Test
  void validatableRulesWaitUntilSingleValuesAreValid() {
    ConfigException e = fx.fail(ConfigFixture.BASE + "training:\n  max_steps: x\n  warmup_steps: 20\n");
    assertEquals(1, e.problems().size(), e.getMessage());
  }

  @Test
  void roundTripThroughToYaml() throws Exception {
    Run first = fx.load(FULL);
    String yaml = ConfigBinder.toYaml(first);
    assertTrue(yaml.contains("\n  learning_rate: 0.0001\n"), yaml);
    assertTrue(yaml.contains("\n  optimizer: adam_w\n"), yaml);
    assertTrue(yaml.contains("path: " + tmp.resolve("models/llama")), yaml);
    assertTrue(yaml.contains("\nlora:\n  r: 16\n  alpha: 16.0\n"), yaml);
    assertTrue(yaml.contains("- 'yes'"), yaml);
    assertTrue(yaml.contains("\n  max_steps: 1000\n"), yaml);

    Path other = Files.createDirectories(tmp.resolve("elsewhere")).resolve("resolved.yaml");
    Files.writeString(other, yaml);
    Run second = ConfigBinder.load(other, Run.class);
    assertEquals(yaml, ConfigBinder.toYaml(second));
    assertEquals(first.model.path, second.model.path);
    assertEquals(first.training.learningRate, second.training.learningRate);
    assertEquals(first.training.maxSteps, second.training.maxSteps);
    assertEquals(first.data.sources.get("domain").path, second.data.sources.get("domain").path);
    assertEquals(first.stages.get(1).lr, second.stages.get(1).lr);
    assertEquals(first.lossWeights, second.lossWeights);
    assertEquals(first.tags, second.tags);
  }

  @Test
  void toYamlWritesNullsAndEmptyCollections() {
    Run r = fx.load(ConfigFixture.BASE);
    String yaml = ConfigBinder.toYaml(r);
    // An absent (null) section is left out: "lora: null" would read back as a section with defaults.
    assertTrue(!yaml.contains("\nlora:"), yaml);
    assertTrue(yaml.contains("\nstages: []\n"), yaml);
    assertTrue(yaml.contains("\n  max_steps: null\n"), yaml);
    assertTrue(yaml.contains("\n  learning_rate: 0.0003\n"), yaml);
    assertTrue(yaml.contains("\n  sources: {}\n"), yaml);
  }

  @Test
  void aDefaultOutOfRangeIsReportedAsTheDefault() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigBinder.load(fx.write("{}\n"), SampleConfigs.BadDefault.class));
    assertEquals(fx.f + ": n must be >= 1, got 0 (the default)", e.getMessage());
  }

  @Test
  void invalidConfigClassIsADeveloperError() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ConfigBinder.load(fx.write(ConfigFixture.BASE), SampleConfigs.Broken.class));
    assertTrue(e.getMessage().contains("Broken.names"), e.getMessage());
  }

  @Test
  void namingHelpers() {
    assertEquals("replay_ratio", Names.snake("replayRatio"));
    assertEquals("use_kv_cache", Names.snake("useKVCache"));
    assertEquals("lora_r", Names.snake("loraR"));
    assertEquals("layer2_norm", Names.snake("layer2Norm"));
    assertEquals("learning_rate", Names.suggest("lerning_rate", List.of("epochs", "learning_rate")));
    assertNull(Names.suggest("xyz", List.of("epochs", "learning_rate")));
    assertEquals("0.0003", Names.number(3e-4));
    assertEquals("1", Names.number(1.0));
    assertEquals("1.0", Names.yamlDouble(1.0));
    assertEquals("1.0E-7", Names.yamlDouble(1e-7));
  }
}
