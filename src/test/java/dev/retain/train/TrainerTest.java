package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.testutil.Tiny;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  @TempDir Path tmp;

  static RunConfig.Training cfg() {
    RunConfig.Training c = new RunConfig.Training();
    c.lr = 3e-3;
    c.warmupSteps = 2;
    c.logEvery = 1;
    c.checkpointEvery = 3;
    c.keepCheckpoints = 3;
    return c;
  }

  static List<Double> losses(Path metrics) throws Exception {
    List<Double> out = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      JsonNode n = Json.MAPPER.readTree(line);
      if (n.path("kind").asText().equals("train")) {
        out.add(n.path("loss").asDouble());
      }
    }
    return out;
  }

  static Map<String, float[]> weights(CausalLM m) {
    Map<String, float[]> w = new LinkedHashMap<>();
    m.allParameters().forEach((k, v) -> w.put(k, v.data().toFloatArray()));
    return w;
  }

  @Test
  void lossFallsAndValidationIsReported() throws Exception {
    try (CausalLM model = Tiny.model(1)) {
      Trainer t = Tiny.trainer(tmp, model, cfg(), 3, List.of());
      Trainer.Result r = t.run();
      List<Double> l = losses(tmp.resolve("out/metrics.jsonl"));
      assertEquals(t.totalSteps(), l.size());
      assertTrue(l.get(l.size() - 1) < l.get(0) * 0.8, "loss did not fall: " + l);
      assertTrue(r.validationLoss().containsKey("domain") && r.validationLoss().containsKey("general"));
      assertTrue(Files.isDirectory(t.checkpoints().latest().orElseThrow()));
    }
  }

  @Test
  void resumeEqualsUninterruptedRun() throws Exception {
    resumeEqualsUninterrupted((dir, model, close) -> Tiny.trainer(dir, model, cfg(), 2, List.of()));
  }

  /** A trainer on a fresh model; what it needs closed afterwards goes into {@code close}. */
  interface TrainerOn {
    Trainer make(Path dir, CausalLM model, List<AutoCloseable> close) throws Exception;
  }

  /** A run killed after step 5 and resumed from its last checkpoint (step 3) ends as the run that never stopped. */
  private void resumeEqualsUninterrupted(TrainerOn trainers) throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Map<String, float[]> full = null;
    List<Double> fullLosses = null;
    for (int phase = 0; phase < 3; phase++) { // uninterrupted, killed, resumed
      List<AutoCloseable> close = new ArrayList<>();
      try (CausalLM model = Tiny.model(2)) {
        Trainer t = trainers.make(phase == 0 ? a : b, model, close);
        if (phase == 0) {
          t.run();
          full = weights(model);
          fullLosses = losses(a.resolve("out/metrics.jsonl"));
        } else if (phase == 1) {
          t.stopAfter(5); // "killed" after step 5; the last checkpoint is step 3
          t.run();
        } else {
          Path latest = t.checkpoints().latest().orElseThrow();
          assertEquals("step-00000003", latest.getFileName().toString());
          t.resumeFrom(latest);
          t.run();
          assertEquals(fullLosses, losses(b.resolve("out/metrics.jsonl")));
          Map<String, float[]> resumed = weights(model);
          for (String k : full.keySet()) {
            assertArrayEquals(full.get(k), resumed.get(k), k);
          }
        }
      } finally {
        for (AutoCloseable c : close) {
          c.close();
        }
      }
    }
  }

  @Test
  void frozenParametersDoNotChangeAndStagesSwitch() throws Exception {
    RunConfig.Training c = cfg();
    RunConfig.Stage s1 = new RunConfig.Stage();
    s1.trainable = "top:1+head";
    s1.steps = 3;
    s1.lr = 3e-3;
    RunConfig.Stage s2 = new RunConfig.Stage();
    s2.trainable = "regex:mlp";
    s2.steps = 3;
    s2.lr = 1e-3;
    c.stages = List.of(s1, s2);
    try (CausalLM model = Tiny.model(3)) {
      Map<String, float[]> before = weights(model);
      Trainer t = Tiny.trainer(tmp, model, c, 2, List.of());
      t.run();
      assertTrue(t.trainableNames().stream().allMatch(n -> n.contains("mlp")));
      Map<String, float[]> after = weights(model);
      for (Map.Entry<String, Parameter> e : model.allParameters().entrySet()) {
        String n = e.getKey();
        boolean shouldMove = n.startsWith("model.layers.1.") || n.equals("lm_head.weight") || n.contains("mlp");
        boolean moved = !java.util.Arrays.equals(before.get(n), after.get(n));
        assertEquals(shouldMove, moved, n);
      }
      // Newly unfrozen in stage 2: fresh moments, stepped 3 times. Trainable in both stages: kept, 6 steps.
      assertEquals(3L, t.optimizer().state().get("model.layers.0.mlp.up_proj.weight").t());
      assertEquals(6L, t.optimizer().state().get("model.layers.1.mlp.up_proj.weight").t());
      assertEquals(null, t.optimizer().state().get("lm_head.weight"), "frozen in stage 2: moments dropped");
    }
  }

  @Test
  void gradientAccumulationAndParameterGroups() throws Exception {
    RunConfig.Training c = cfg();
    c.gradAccum = 2;
    c.checkpointEvery = 0;
    RunConfig.ParamGroup frozenByLr = new RunConfig.ParamGroup();
    frozenByLr.match = "^model\\.layers\\.0\\.";
    frozenByLr.lrScale = 0.0;
    frozenByLr.weightDecay = 0.0;
    c.paramGroups = List.of(frozenByLr);
    try (CausalLM model = Tiny.model(6)) {
      Map<String, float[]> before = weights(model);
      Trainer one = Tiny.trainer(tmp.resolve("accum"), model, c, 2, List.of());
      one.run();
      // Every optimizer step consumed two micro-batches: the steps are half the epoch's batches.
      int batches = 0;
      for (String line : Files.readAllLines(tmp.resolve("accum/out/metrics.jsonl"))) {
        JsonNode n = Json.MAPPER.readTree(line);
        if (n.path("kind").asText().equals("epoch")) {
          batches += n.path("batches").asInt();
        }
      }
      assertEquals(batches / 2, one.totalSteps());
      Map<String, float[]> after = weights(model);
      // lr_scale 0 and no decay: layer 0 never moves; the rest does.
      assertArrayEquals(before.get("model.layers.0.mlp.up_proj.weight"), after.get("model.layers.0.mlp.up_proj.weight"));
      assertTrue(!java.util.Arrays.equals(before.get("model.layers.1.mlp.up_proj.weight"), after.get("model.layers.1.mlp.up_proj.weight")));
    }
  }

  @Test
  void resumeAcrossAStageSwitchKeepsEarlierStagesTraining() throws Exception {
    RunConfig.Training c = cfg();
    RunConfig.Stage s1 = new RunConfig.Stage();
    s1.trainable = "top:1+head";
    s1.steps = 3;
    RunConfig.Stage s2 = new RunConfig.Stage();
    s2.trainable = "regex:mlp";
    s2.steps = 4;
    c.stages = List.of(s1, s2);
    c.checkpointEvery = 5;
    Path a = Files.createDirectories(tmp.resolve("a"));
    Path b = Files.createDirectories(tmp.resolve("b"));
    Map<String, float[]> full;
    try (CausalLM model = Tiny.model(8)) {
      Tiny.trainer(a, model, c, 2, List.of()).run();
      full = weights(model);
    }
    try (CausalLM model = Tiny.model(8)) {
      Trainer t = Tiny.trainer(b, model, c, 2, List.of());
      t.stopAfter(6); // killed in stage 2; the checkpoint at step 5 must still hold stage 1's head
      t.run();
    }
    try (CausalLM model = Tiny.model(8)) {
      Trainer t = Tiny.trainer(b, model, c, 2, List.of());
      t.resumeFrom(t.checkpoints().latest().orElseThrow());
      t.run();
      Map<String, float[]> resumed = weights(model);
      for (String k : full.keySet()) {
        assertArrayEquals(full.get(k), resumed.get(k), k);
      }
    }
  }

  /**
   * Adapters on a bfloat16 base (training.base_precision): the step's passes run on the copies, so the
   * losses differ from the float32 run's, but only by bfloat16 rounding; the loss falls as much, every
   * adapter tensor moves (the gradient reached it through the copies above it), and the base weights
   * do not move. LoRA on q, v and bottleneck adapters after every MLP.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"lora", "bottleneck"})
  void adaptersOnABfloat16BaseTrackTheFloat32Run(String kind) throws Exception {
    List<List<Double>> runs = new ArrayList<>();
    for (boolean bfloat16 : new boolean[] {false, true}) {
      Path dir = tmp.resolve(kind + (bfloat16 ? "-bf16" : "-f32"));
      try (CausalLM model = Tiny.model(4)) {
        Map<String, float[]> base = weights(model);
        dev.retain.peft.Adapter adapter = kind.equals("lora")
            ? dev.retain.peft.lora.Lora.apply(model, new dev.retain.peft.lora.LoraConfig(4, 8, 0.0, false,
                dev.retain.peft.lora.TargetModules.names("q_proj", "v_proj"), null), 9)
            : dev.retain.peft.bottleneck.Bottleneck.apply(model, new dev.retain.peft.bottleneck.BottleneckConfig(4, 0,
                dev.retain.peft.bottleneck.BottleneckConfig.Activation.SILU, null), 9);
        Map<String, float[]> start = weights(model);
        try (dev.retain.model.Bfloat16Copies copies = bfloat16 ? dev.retain.model.Bfloat16Copies.of(model) : null) {
          Tiny.trainer(dir, model, cfg(), 2, List.of(), adapter, null, copies).run();
        }
        for (Map.Entry<String, Parameter> e : model.allParameters().entrySet()) {
          float[] now = e.getValue().data().toFloatArray();
          if (base.containsKey(e.getKey())) {
            assertArrayEquals(base.get(e.getKey()), now, e.getKey());
          } else {
            assertTrue(!java.util.Arrays.equals(start.get(e.getKey()), now), e.getKey() + " trained");
          }
        }
        runs.add(losses(dir.resolve("out/metrics.jsonl")));
      }
    }
    List<Double> f32 = runs.get(0);
    List<Double> bf16 = runs.get(1);
    assertEquals(f32.size(), bf16.size());
    assertTrue(!f32.equals(bf16), "the bfloat16 run multiplied by its copies");
    for (int i = 0; i < f32.size(); i++) {
      // Measured (LoRA): at most 0.07% apart over the run.
      assertEquals(f32.get(i), bf16.get(i), 0.005 * f32.get(i), "step " + (i + 1) + ": " + f32 + " / " + bf16);
    }
    double fell = f32.get(0) - f32.get(f32.size() - 1);
    double fellBf16 = bf16.get(0) - bf16.get(bf16.size() - 1);
    assertTrue(fell > 0.3 && Math.abs(fellBf16 - fell) < 0.2 * fell, "learned as much on the bfloat16 base: "
        + f32 + " / " + bf16);
  }

  /** LoRA on a bfloat16 base resumes exactly: the copies are taken anew from the same frozen base. */
  @Test
  void resumeOnABfloat16BaseEqualsUninterruptedRun() throws Exception {
    resumeEqualsUninterrupted((dir, model, close) -> {
      dev.retain.peft.lora.LoraModel lora = dev.retain.peft.lora.Lora.apply(model, new dev.retain.peft.lora.LoraConfig(4, 8,
          0.0, false, dev.retain.peft.lora.TargetModules.names("q_proj", "v_proj"), null), 9);
      dev.retain.model.Bfloat16Copies copies = dev.retain.model.Bfloat16Copies.of(model);
      close.add(copies);
      return Tiny.trainer(dir, model, cfg(), 2, List.of(), lora, null, copies);
    });
  }
}
