package dev.retain.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.config.SampleConfigs.Optimizer;
import dev.retain.config.SampleConfigs.Run;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigOverridesTest {
  @TempDir Path tmp;
  ConfigFixture fx;

  @BeforeEach
  void setUp() {
    fx = new ConfigFixture(tmp);
  }

  @Test
  void overridesReplaceValuesOfEveryShape() {
    Path extra = tmp.resolve("data/general.jsonl");
    Run r = fx.load(ConfigBinderTest.FULL,
        "training.learning_rate=1e-5",
        "data.sources.domain.weight=2.5",
        "data.sources.extra.path=" + extra,
        "tags=a, b,c",
        "training.dropouts=[0.2, 0.3]",
        "training.eval_steps=5",
        "stages[1].lr=0.5",
        "lora.r=4",
        "training.max_steps=",
        "model.optimizer=SGD",
        "loss_weights={kl: 2}");
    assertEquals(1e-5, r.training.learningRate);
    assertEquals(2.5, r.data.sources.get("domain").weight);
    assertEquals(List.of("domain", "general", "extra"), List.copyOf(r.data.sources.keySet()));
    assertEquals(extra, r.data.sources.get("extra").path);
    assertEquals(1.0, r.data.sources.get("extra").weight);
    assertEquals(List.of("a", "b", "c"), r.tags);
    assertEquals(List.of(0.2, 0.3), r.training.dropouts);
    assertEquals(List.of(5), r.training.evalSteps);
    assertEquals(0.5, r.stages.get(1).lr);
    assertEquals("main", r.stages.get(1).name);
    assertEquals(4, r.lora.r);
    assertNull(r.training.maxSteps);
    assertEquals(Optimizer.SGD, r.model.optimizer);
    assertEquals(List.of("kl"), List.copyOf(r.lossWeights.keySet()));
  }

  @Test
  void anEmptyValueClearsAnOptionalSection() {
    // In the file "lora:" is the section with defaults; "--set lora=" removes it.
    assertEquals(8, fx.load(ConfigFixture.BASE + "lora:\n").lora.r);
    assertNull(fx.load(ConfigFixture.BASE + "lora:\n  r: 4\n", "lora=").lora);
    assertNull(fx.load(ConfigFixture.BASE + "lora:\n", "lora=~").lora);
    // A section that always exists goes back to its defaults; its required keys are then missing.
    assertEquals(Optimizer.ADAM_W,
        fx.load(ConfigFixture.BASE + "  optimizer: sgd\n", "model=", "model.path=" + tmp.resolve("models/llama")).model.optimizer);
    assertTrue(fx.fail(ConfigFixture.BASE, "model=").getMessage().contains("model.path"));
  }

  @Test
  void overridePathsResolveAgainstTheWorkingDirectory() {
    Run r = fx.load(ConfigFixture.BASE, "model.path=.");
    assertEquals(Path.of("").toAbsolutePath().normalize(), r.model.path);
  }

  @Test
  void overrideCanSupplyARequiredKeyAndFixAFileValue() {
    Run r = fx.load("model:\n  path: models/llama\ndata:\n  replay:\n    ratio: 1.5\n",
        "name=from-cli", "data.replay.ratio=0.5");
    assertEquals("from-cli", r.name);
    assertEquals(0.5, r.data.replay.ratio);
  }

  @Test
  void overrideErrorsNameTheOverride() {
    ConfigException e = fx.fail(ConfigFixture.BASE,
        "training.lerning_rate=1",
        "training.epochs=three",
        "training.learning_rate=-1",
        "nonsense",
        "stages[5].lr=1",
        "training.epochs.x=1",
        "model.path=" + tmp.resolve("missing"),
        "tags=[a",
        "lora.r=0");
    assertEquals(List.of(
        "command-line override 'training.lerning_rate=1': unknown key 'training.lerning_rate'; did you mean"
            + " 'learning_rate'? Known keys here: learning_rate, epochs, max_steps, warmup_steps,"
            + " gradient_checkpointing, dropouts, eval_steps",
        "command-line override 'training.epochs=three': training.epochs must be an integer, got \"three\"",
        "command-line override 'training.learning_rate=-1': training.learning_rate must be > 0, got -1",
        "command-line override 'nonsense': expected key.path=value, e.g. training.lr=1e-4",
        "command-line override 'stages[5].lr=1': stages has 0 elements; index 5 is out of range"
            + " (set the whole list instead, e.g. stages=[...])",
        "command-line override 'training.epochs.x=1': training.epochs is an integer and has no key 'x'",
        "command-line override 'model.path=" + tmp.resolve("missing") + "': model.path must be an existing file"
            + " or folder, but " + tmp.resolve("missing") + " does not exist",
        "command-line override 'tags=[a': tags: the value is not valid YAML (expected ',' or ']', but got"
            + " <stream end>); write a list of strings",
        "command-line override 'lora.r=0': lora.r must be > 0, got 0"),
        e.problems().stream().map(ConfigProblem::toString).toList());
    assertEquals(0, e.line());
    assertEquals("training.lerning_rate", e.keyPath());
  }

  @Test
  void fileErrorsComeBeforeOverrideErrors() {
    ConfigException e = fx.fail(ConfigFixture.BASE + "seed: x\n", "seed=y");
    assertEquals(List.of(
        fx.f + ":4: seed must be an integer, got \"x\"",
        "command-line override 'seed=y': seed must be an integer, got \"y\""),
        e.problems().stream().map(ConfigProblem::toString).toList());
  }

  @Test
  void applyOverrideOnAConfigBuiltInCode() {
    Run r = new Run();
    r.name = "code";
    r.model.path = tmp;
    ConfigBinder.applyOverride(r, "training.learning_rate", "1e-5");
    assertEquals(1e-5, r.training.learningRate);
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigBinder.applyOverride(r, "training.learning_rate", "0"));
    assertEquals("command-line override 'training.learning_rate=0': training.learning_rate must be > 0, got 0",
        e.getMessage());
  }

  @Test
  void validateAConfigBuiltInCode() {
    Run r = new Run();
    r.model.path = tmp;
    r.data.replay.ratio = 2;
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigBinder.validate(r));
    assertEquals(List.of(
        "name is required but has no value; write e.g. 'name: llama-domain-1'",
        "data.replay.ratio must be in [0, 1), got 2"),
        e.problems().stream().map(ConfigProblem::toString).toList());
    assertNull(e.file());
  }
}
