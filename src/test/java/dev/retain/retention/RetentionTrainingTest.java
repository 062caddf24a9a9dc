package dev.retain.retention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.data.Example;
import dev.retain.model.CausalLM;
import dev.retain.testutil.Tiny;
import dev.retain.train.LossTerm;
import dev.retain.train.RunConfig;
import dev.retain.train.Trainer;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Short training runs through the real trainer with each term attached. */
class RetentionTrainingTest {
  @TempDir Path tmp;

  static RunConfig.Training cfg(String trainable) {
    RunConfig.Training c = new RunConfig.Training();
    c.lr = 3e-3;
    c.warmupSteps = 1;
    c.logEvery = 1;
    c.checkpointEvery = 3;
    c.keepCheckpoints = 3;
    c.maxSteps = 6;
    c.trainable = trainable;
    return c;
  }

  /** The logged values of term {@code name} over the run's train records. */
  static List<Double> logged(Path dir, String name) throws Exception {
    List<Double> out = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("out/metrics.jsonl"))) {
      JsonNode n = Json.MAPPER.readTree(line);
      if (n.path("kind").asText().equals("train") && n.path("terms").has(name)) {
        out.add(n.path("terms").path(name).asDouble());
      }
    }
    return out;
  }

  static List<Example> general(int n) {
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Example(new int[] {1, 40 + i, 50 + i, 60 + i, 2}, new boolean[] {false, true, true, true, true}));
    }
    return out;
  }

  static void assertRan(Path dir, String name, int steps) throws Exception {
    List<Double> v = logged(dir, name);
    assertEquals(steps, v.size(), name + " logged every step: " + v);
    for (double x : v) {
      assertTrue(Double.isFinite(x) && x >= 0, name + " = " + x);
    }
    assertTrue(v.get(v.size() - 1) > 0, name + " stayed 0: " + v);
  }

  @Test
  void ewcRun() throws Exception {
    try (CausalLM model = Tiny.model(21)) {
      Importance f = Importance.fisher(model, general(4));
      try (Ewc ewc = new Ewc(model, f, 100)) {
        Trainer t = Tiny.trainer(tmp, model, cfg("all"), 2, List.of(ewc));
        t.run();
        assertRan(tmp, "ewc", (int) t.totalSteps());
      }
    }
  }

  @Test
  void l2spRunWithAnAdapterAndStagedBaseWeights() throws Exception {
    try (CausalLM model = Tiny.model(22)) {
      TestLoRA.attach(model.layers.get(0).qProj, 2, 2f, 0.3, 0.0, 1);
      TestLoRA.attach(model.layers.get(1).vProj, 2, 2f, 0.3, 0.0, 2);
      try (L2SP l2 = new L2SP(model, 10)) {
        Trainer t = Tiny.trainer(tmp, model, cfg("regex:lora_|mlp.down_proj"), 2, List.of(l2));
        t.run();
        assertRan(tmp, "l2sp", (int) t.totalSteps());
      }
    }
  }

  @Test
  void distillationRunWithAnAdapter() throws Exception {
    try (CausalLM model = Tiny.model(23)) {
      TestLoRA.attach(model.layers.get(0).qProj, 2, 2f, 0.3, 0.0, 1);
      TestLoRA.attach(model.layers.get(1).downProj, 2, 2f, 0.3, 0.0, 2);
      Distillation kd = new Distillation(1.0, 2.0, Distillation.On.ALL, Set.of("general"));
      Trainer t = Tiny.trainer(tmp, model, cfg("regex:lora_"), 2, List.of(kd));
      t.run();
      List<Double> v = logged(tmp, "kd");
      assertEquals(t.totalSteps(), v.size());
      assertEquals(0.0, v.get(0), 1e-6, "student = teacher at the start (B = 0)");
      assertTrue(v.stream().allMatch(Double::isFinite) && v.get(v.size() - 1) > 0, v.toString());
    }
  }

  @Test
  void siRunAndResumeContinueThePathIntegralExactly() throws Exception {
    Importance previous;
    try (CausalLM model = Tiny.model(24)) {
      previous = Importance.fisher(model, general(3)); // any importance file can seed Omega
    }
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Importance full;
    List<Double> fullValues;
    try (CausalLM model = Tiny.model(24);
        SynapticIntelligence si = new SynapticIntelligence(model, 50, 0.1, previous)) {
      Trainer t = Tiny.trainer(a, model, cfg("top:1+head"), 2, List.<LossTerm>of(si));
      t.run();
      assertRan(a, "si", (int) t.totalSteps());
      fullValues = logged(a, "si");
      full = si.consolidated();
      assertTrue(si.tracked().contains("lm_head.weight"), si.tracked().toString());
    }
    try (CausalLM model = Tiny.model(24);
        SynapticIntelligence si = new SynapticIntelligence(model, 50, 0.1, previous)) {
      Trainer t = Tiny.trainer(b, model, cfg("top:1+head"), 2, List.<LossTerm>of(si));
      t.stopAfter(5);
      t.run();
    }
    try (CausalLM model = Tiny.model(24);
        SynapticIntelligence si = new SynapticIntelligence(model, 50, 0.1, previous)) {
      Trainer t = Tiny.trainer(b, model, cfg("top:1+head"), 2, List.<LossTerm>of(si));
      t.resumeFrom(t.checkpoints().latest().orElseThrow());
      t.run();
      assertEquals(fullValues, logged(b, "si"));
      Importance resumed = si.consolidated();
      assertEquals(full.names(), resumed.names());
      for (String n : full.names()) {
        assertArrayEquals(full.values(n), resumed.values(n), n);
      }
      assertEquals(full.metadata().get("retain.steps"), resumed.metadata().get("retain.steps"));
    }
  }
}
