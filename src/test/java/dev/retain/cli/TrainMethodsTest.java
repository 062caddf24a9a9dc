package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelSaver;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraConfig;
import dev.retain.peft.lora.LoraModel;
import dev.retain.testutil.Cli;
import dev.retain.testutil.Tiny;
import dev.retain.train.RunConfig;
import dev.retain.train.Trainer;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each protection switched on from the run YAML, alone and all together, through retain train. */
class TrainMethodsTest {
  @TempDir Path tmp;
  Path yaml;

  @BeforeEach
  void setUp() throws Exception {
    Tiny.tokenizer(tmp);
    try (CausalLM m = Tiny.model(21)) {
      ModelSaver.save(m, tmp.resolve("base"), DType.F32, null);
    }
    Files.copy(tmp.resolve("tokenizer.json"), tmp.resolve("base/tokenizer.json"));
    Tiny.domain(tmp.resolve("d.jsonl"), 32);
    Tiny.arithmetic(tmp.resolve("g.jsonl"), 48, 0);
    Tiny.arithmetic(tmp.resolve("gv.jsonl"), 8, 3);
    yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, String.join("\n",
        "model: base",
        "data:",
        "  seq_len: 32",
        "  sources:",
        "    domain: {train: d.jsonl}",
        "    general: {train: g.jsonl, validation: gv.jsonl, role: general}",
        "  replay: {schedule: linear, start: 0.15, end: 0.3}",
        "training:",
        "  epochs: 2",
        "  batch_size: 4",
        "  lr: 0.003",
        "  log_every: 1",
        ""));
  }

  private String train(String output, String... sets) {
    List<String> args = new ArrayList<>(List.of("train", "--config", yaml.toString(), "--output", tmp.resolve(output).toString()));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    Cli.Run r = Cli.run(args.toArray(new String[0]));
    assertEquals(0, r.code(), r.out() + r.err());
    return r.out() + r.err();
  }

  private Set<String> loggedTerms(String output) throws Exception {
    Set<String> terms = new HashSet<>();
    for (String line : Files.readAllLines(tmp.resolve(output).resolve("metrics.jsonl"))) {
      JsonNode n = Json.MAPPER.readTree(line);
      n.path("terms").fieldNames().forEachRemaining(k -> {
        assertTrue(Double.isFinite(n.path("terms").path(k).asDouble()), k + " not finite in " + line);
        terms.add(k);
      });
    }
    return terms;
  }

  @Test
  void eachRetentionTermAloneAndAllTogether() throws Exception {
    String ewc = train("ewc", "retention.ewc={lambda: 10, samples: 8}");
    assertTrue(ewc.contains("Fisher saved"), ewc);
    assertEquals(Set.of("ewc"), loggedTerms("ewc"));
    assertTrue(Files.exists(tmp.resolve("ewc/importance/fisher.safetensors")));
    train("si", "retention.si={c: 0.5}");
    assertEquals(Set.of("si"), loggedTerms("si"));
    assertTrue(Files.exists(tmp.resolve("si/importance/si-omega.safetensors")));
    train("l2sp", "retention.l2sp={alpha: 0.1}");
    assertEquals(Set.of("l2sp"), loggedTerms("l2sp"));
    train("kd", "retention.distillation={weight: 0.5, temperature: 2, on: general}");
    assertEquals(Set.of("kd"), loggedTerms("kd"));
    // The three levels together: replay (in the YAML) + stages + EWC + LoRA + distillation, reusing the Fisher file.
    String all = train("all", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}",
        "retention.ewc={lambda: 10, fisher: " + tmp.resolve("ewc/importance/fisher.safetensors") + "}",
        "retention.distillation={weight: 0.5}", "retention.l2sp={alpha: 0.1}",
        "training.stages=[{trainable: adapters, lr: 0.003, epochs: 1}, {trainable: adapters+norm, lr: 0.001, epochs: 1}]");
    assertEquals(Set.of("ewc", "kd", "l2sp"), loggedTerms("all"));
    assertTrue(all.contains("protections: replay") && all.contains("lora") && all.contains("2 stages"), all);
    assertTrue(Files.exists(tmp.resolve("all/adapter/adapter_config.json")));
  }

  @Test
  void aBfloat16TeacherFromTheRunYamlForLoraAndFullFineTuning() throws Exception {
    String lora = train("kd-lora-bf16", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}",
        "retention.distillation={weight: 0.5, teacher_precision: bfloat16}");
    assertTrue(lora.contains("teacher: the base model (adapters off), its matmuls in bfloat16"), lora);
    assertEquals(Set.of("kd"), loggedTerms("kd-lora-bf16"));
    String full = train("kd-full-bf16", "retention.distillation={weight: 0.5, teacher_precision: bfloat16}");
    assertTrue(full.contains("teacher: a frozen copy of the starting model, its matmuls in bfloat16"), full);
    assertEquals(Set.of("kd"), loggedTerms("kd-full-bf16"));

    Cli.Run bad = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("bad").toString(), "--set",
        "retention.distillation={teacher_precision: bf16}");
    assertEquals(2, bad.code(), bad.out() + bad.err());
    assertTrue(bad.err().contains("retention.distillation.teacher_precision") && bad.err().contains("float32 or bfloat16"),
        bad.err());
    Cli.Run none = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("none").toString(), "--set",
        "retention.distillation={teacher_precision: null}");
    assertEquals(2, none.code(), none.out() + none.err());
    assertTrue(none.err().contains("retention.distillation.teacher_precision"), none.err());

    // With adapters, a stage that also trains a linear weight would leave the teacher's copy stale;
    // norms may train (they are not copied, and the float32 teacher reads them as they are now too).
    Cli.Run mixed = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("mixed").toString(),
        "--set", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}",
        "--set", "retention.distillation={weight: 0.5, teacher_precision: bfloat16}",
        "--set", "training.stages=[{trainable: adapters, epochs: 1}, {trainable: adapters+top:1, epochs: 1}]");
    assertEquals(2, mixed.code(), mixed.out() + mixed.err());
    assertTrue(mixed.err().contains("retention.distillation.teacher_precision") && mixed.err().contains("adapters+top:1")
        && mixed.err().contains("teacher_precision: float32"), mixed.err());
    train("norms", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}",
        "retention.distillation={weight: 0.5, teacher_precision: bfloat16}",
        "training.stages=[{trainable: adapters, epochs: 1}, {trainable: adapters+norm, epochs: 1}]");
  }

  /**
   * training.base_precision: bfloat16 under LoRA and bottleneck adapters: the run trains and saves its
   * adapter, a distillation teacher shares the copies, norms may train next to the adapters; a run that
   * trains a linear weight, or has no adapters, is refused with the key named.
   */
  @Test
  void aBfloat16BaseUnderAdaptersFromTheRunYaml() throws Exception {
    String lora = train("lora-bf16", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}",
        "training.base_precision=bfloat16", "retention.distillation={weight: 0.5}",
        "training.stages=[{trainable: adapters, epochs: 1}, {trainable: adapters+norm, epochs: 1}]");
    assertTrue(lora.contains("teacher: the base model (adapters off), its matmuls in bfloat16"), lora);
    assertEquals(Set.of("kd"), loggedTerms("lora-bf16"));
    assertTrue(Files.exists(tmp.resolve("lora-bf16/adapter/adapter_model.safetensors")));
    assertTrue(Files.readString(tmp.resolve("lora-bf16/run.yaml")).contains("base_precision: bfloat16"));
    train("bottleneck-bf16", "adapters={reduction_factor: 4}", "training.base_precision=bfloat16");
    assertTrue(Files.exists(tmp.resolve("bottleneck-bf16/adapter/adapter_config.json")));

    Cli.Run full = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("full").toString(), "--set",
        "training.base_precision=bfloat16");
    assertEquals(2, full.code(), full.out() + full.err());
    assertTrue(full.err().contains("training.base_precision") && full.err().contains("set lora or adapters"), full.err());
    Cli.Run bad = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("bad").toString(), "--set",
        "training.base_precision=bf16", "--set", "lora={r: 4}");
    assertEquals(2, bad.code(), bad.out() + bad.err());
    assertTrue(bad.err().contains("training.base_precision") && bad.err().contains("float32 or bfloat16"), bad.err());
    Cli.Run linear = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("linear").toString(),
        "--set", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}", "--set", "training.base_precision=bfloat16",
        "--set", "training.trainable=adapters+top:1");
    assertEquals(2, linear.code(), linear.out() + linear.err());
    assertTrue(linear.err().contains("training.base_precision") && linear.err().contains("adapters+top:1")
        && linear.err().contains("base_precision: float32"), linear.err());
    Cli.Run stage = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("stage").toString(),
        "--set", "lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj]}", "--set", "training.base_precision=bfloat16",
        "--set", "training.stages=[{trainable: adapters, epochs: 1}, {trainable: adapters+head, epochs: 1}]");
    assertEquals(2, stage.code(), stage.out() + stage.err());
    assertTrue(stage.err().contains("'adapters+head' trains lm_head.weight"), stage.err());
    assertTrue(!stage.out().contains("train step"), "refused before training: " + stage.out());
    Cli.Run none = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("none").toString(), "--set",
        "training.base_precision=null", "--set", "lora={r: 4}");
    assertEquals(2, none.code(), none.out() + none.err());
    assertTrue(none.err().contains("training.base_precision") && none.err().contains("got 'null'"), none.err());
  }

  /** A run.yaml written before an option existed resumes: the missing key reads as its default. */
  @Test
  void resumeAcceptsARunYamlWithoutAKeyAddedSince() throws Exception {
    train("old", "retention.distillation={weight: 0.5}", "training.max_steps=2", "training.checkpoint_every=1");
    Path saved = tmp.resolve("old/run.yaml");
    String text = Files.readString(saved);
    assertTrue(text.contains("teacher_precision: float32"), text);
    Files.writeString(saved, text.replaceAll("(?m)^ *teacher_precision: float32\\R", ""));
    Cli.Run r = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("old").toString(), "--resume",
        "--set", "retention.distillation={weight: 0.5}", "--set", "training.max_steps=4", "--set", "training.checkpoint_every=1");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("resuming from"), r.out());
  }

  @Test
  void aLoraFineTuneChangesOnlyAdapterTensors() throws Exception {
    try (CausalLM model = Tiny.model(5)) {
      Map<String, float[]> base = new LinkedHashMap<>();
      model.parameters().forEach((k, v) -> base.put(k, v.data().toFloatArray()));
      LoraModel lora = Lora.apply(model, LoraConfig.defaults(), 5, null);
      Map<String, float[]> adapterBefore = new LinkedHashMap<>();
      for (Parameter p : lora.parameters()) {
        adapterBefore.put(p.name(), p.data().toFloatArray());
      }
      RunConfig.Training cfg = new RunConfig.Training();
      cfg.lr = 1e-2;
      Trainer t = Tiny.trainer(tmp.resolve("lora"), model, cfg, 2, List.of(), lora);
      t.run();
      for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
        assertArrayEquals(base.get(e.getKey()), e.getValue().data().toFloatArray(), e.getKey());
      }
      boolean moved = false;
      for (Parameter p : lora.parameters()) {
        moved |= !java.util.Arrays.equals(adapterBefore.get(p.name()), p.data().toFloatArray());
      }
      assertTrue(moved, "the adapter did not train");
      assertEquals(lora.parameterNames(), t.trainableNames());
    }
  }

  @Test
  void resumeRefusesAChangedConfig() throws Exception {
    train("r", "training.max_steps=2", "training.checkpoint_every=1");
    Cli.Run r = Cli.run("train", "--config", yaml.toString(), "--output", tmp.resolve("r").toString(), "--resume",
        "--set", "training.max_steps=4", "--set", "training.lr=0.5");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("training.lr: 0.003 -> 0.5") && !r.err().contains("max_steps"), r.err());
  }
}
