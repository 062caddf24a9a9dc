package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.ModelSaver;
import dev.retain.model.safetensors.DType;
import dev.retain.testutil.Cli;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run on the bundled data (data/cardio as the domain, data/general/facts replayed) with each
 * retention method alone and all together: each completes and logs its term in metrics.jsonl. The
 * model is small and random (the bundled tokenizer's vocabulary): this checks the plumbing on the
 * real files, not the quality.
 */
class BundledDataMethodsTest {
  @TempDir Path tmp;
  Path yaml;

  @BeforeEach
  void setUp() throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    try (CausalLM m = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(4096, 32, 64, 2, 4, 2), "tiny"), 3, 0.02)) {
      ModelSaver.save(m, tmp.resolve("base"), DType.F32, null);
    }
    Files.copy(repo.resolve("data/tokenizer/tokenizer.json"), tmp.resolve("base/tokenizer.json"));
    yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, String.join("\n",
        "model: base",
        "data:",
        "  seq_len: 128",
        "  cache_dir: cache",
        "  sources:",
        "    cardio: {train: " + repo.resolve("data/cardio/train.jsonl") + ", validation: " + repo.resolve("data/cardio/validation.jsonl") + "}",
        "    facts: {train: " + repo.resolve("data/general/facts/train.jsonl") + ", role: general}",
        "  replay: {schedule: linear, start: 0.15, end: 0.3}",
        "training: {epochs: 2, max_steps: 3, batch_size: 4, lr: 0.001, log_every: 1}",
        ""));
  }

  private Set<String> run(String name, String... sets) throws Exception {
    String[] args = new String[5 + 2 * sets.length];
    args[0] = "train";
    args[1] = "--config";
    args[2] = yaml.toString();
    args[3] = "--output";
    args[4] = tmp.resolve(name).toString();
    for (int i = 0; i < sets.length; i++) {
      args[5 + 2 * i] = "--set";
      args[6 + 2 * i] = sets[i];
    }
    Cli.Run r = Cli.run(args);
    assertEquals(0, r.code(), r.out() + r.err());
    Set<String> terms = new HashSet<>();
    for (String line : Files.readAllLines(tmp.resolve(name).resolve("metrics.jsonl"))) {
      JsonNode n = Json.MAPPER.readTree(line);
      n.path("terms").fieldNames().forEachRemaining(terms::add);
    }
    return terms;
  }

  @Test
  void eachMethodAloneAndAllTogetherOnTheBundledData() throws Exception {
    assertEquals(Set.of("ewc"), run("ewc", "retention.ewc={lambda: 100, samples: 8}"));
    assertEquals(Set.of("si"), run("si", "retention.si={c: 1}"));
    assertEquals(Set.of("l2sp"), run("l2sp", "retention.l2sp={alpha: 0.01}"));
    assertEquals(Set.of("kd"), run("kd", "retention.distillation={weight: 1}"));
    assertEquals(Set.of(), run("lora", "lora={r: 8}"));
    assertEquals(Set.of(), run("adapters", "adapters={reduction_factor: 4}"));
    assertEquals(Set.of(), run("staged", "training.stages=[{trainable: top:1+head, steps: 1, lr: 0.001}, {trainable: all, steps: 2, lr: 0.0001}]"));
    Set<String> all = run("all", "lora={r: 8}", "retention.ewc={lambda: 100, samples: 8}", "retention.si={c: 1}",
        "retention.l2sp={alpha: 0.01}", "retention.distillation={weight: 1, on: general}");
    assertTrue(all.containsAll(List.of("ewc", "si", "l2sp")), all.toString());
  }
}
