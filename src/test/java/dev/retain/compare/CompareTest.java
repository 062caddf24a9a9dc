package dev.retain.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.eval.report.Comparison;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelSaver;
import dev.retain.model.safetensors.DType;
import dev.retain.testutil.Tiny;
import dev.retain.train.RunConfig;
import dev.retain.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** retain compare end to end on a tiny model: each method in its own JVM, then the report. */
class CompareTest {
  @TempDir Path tmp;

  @Test
  void methodsDeriveFromTheUserConfig() {
    RunConfig user = new RunConfig();
    user.retention.ewc = new RunConfig.Ewc();
    user.retention.ewc.lambda = 7;
    RunConfig cfg = new RunConfig();
    cfg.training.lr = 1e-3;
    cfg.training.epochs = 3;
    Methods.apply("ewc", cfg, user);
    assertEquals(7, cfg.retention.ewc.lambda);
    assertEquals(null, cfg.lora);
    RunConfig staged = new RunConfig();
    staged.training.lr = 1e-3;
    staged.training.epochs = 3;
    Methods.apply("staged", staged, user);
    assertEquals(2, staged.training.stages.size());
    assertEquals(1e-4, staged.training.stages.get(1).lr, 1e-12);
    assertEquals(2, staged.training.stages.get(1).epochs);
    RunConfig rd = new RunConfig();
    rd.training.lr = 1e-3;
    Methods.apply("replay+distill", rd, user);
    assertTrue(rd.lora == null && rd.retention.ewc == null && rd.retention.distillation != null
        && rd.data.replay.schedule == RunConfig.ReplayKind.LINEAR && rd.training.trainable == null);
    assertEquals(1e-3, rd.training.lr, 1e-12);
    assertEquals("full fine-tuning with general data replayed, ratio 30% -> 50% across epochs; distillation from the base "
        + "model (T=2, weight 0.5, all rows)", Methods.describe("replay+distill", rd));
    RunConfig all = new RunConfig();
    all.training.lr = 1e-3;
    Methods.apply("all", all, user);
    assertTrue(all.lora != null && all.retention.ewc != null && all.retention.distillation != null
        && all.data.replay.schedule == RunConfig.ReplayKind.LINEAR);
    assertEquals(3e-3, all.training.lr, 1e-12);
    // The report describes the settings the run used, not fixed text.
    assertEquals("EWC lambda 7 (Fisher of the base on general data)", Methods.describe("ewc", cfg));
    all.lora.targetModules = List.of("all-linear");
    assertTrue(Methods.describe("all", all).contains("ratio 15% -> 30% across epochs; EWC lambda 7"), Methods.describe("all", all));
    assertTrue(Methods.describe("all", all).contains("LoRA r=8, alpha=32 on all-linear"), Methods.describe("all", all));
  }

  @Test
  void comparesMethodsAndWritesTheReport() throws Exception {
    Tiny.tokenizer(tmp);
    try (CausalLM m = Tiny.model(31)) {
      ModelSaver.save(m, tmp.resolve("base"), DType.F32, null);
    }
    Files.copy(tmp.resolve("tokenizer.json"), tmp.resolve("base/tokenizer.json"));
    Tiny.domain(tmp.resolve("d.jsonl"), 32);
    Tiny.arithmetic(tmp.resolve("g.jsonl"), 48, 0);
    Path probes = Files.createDirectories(tmp.resolve("probes"));
    Files.writeString(probes.resolve("suites.json"), "[{\"name\": \"math\", \"kind\": \"choice\", \"file\": \"m.jsonl\", \"role\": \"general\"},"
        + "{\"name\": \"heart\", \"kind\": \"exact\", \"file\": \"h.jsonl\", \"role\": \"domain\"}]");
    Files.writeString(probes.resolve("m.jsonl"), "{\"prompt\": \"3 plus 4 is\", \"choices\": [\" 7\", \" 9\", \" 2\", \" 5\"], \"answer\": 0}\n"
        + "{\"prompt\": \"1 plus 2 is\", \"choices\": [\" 8\", \" 3\", \" 4\", \" 6\"], \"answer\": 1}\n");
    Files.writeString(probes.resolve("h.jsonl"), "{\"prompt\": \"the heart \", \"answer\": \"pumps blood\"}\n");
    Path yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, String.join("\n",
        "model: base",
        "output: cmp",
        "data:",
        "  seq_len: 32",
        "  sources:",
        "    domain: {train: d.jsonl}",
        "    general: {train: g.jsonl, role: general}",
        "training: {epochs: 2, batch_size: 4, lr: 0.003}",
        "retention:",
        "  ewc: {lambda: 10, samples: 4}",
        "eval: {probes: probes, every: 4}",
        ""));
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    Comparison c = Compare.run(new Compare.Options(yaml, List.of(), List.of("naive", "ewc", "lora"), null, "test", false,
        "-Xmx1g"), new PrintStream(buf, true));
    assertEquals(3, c.methods().size());
    Path report = tmp.resolve("cmp/report");
    for (String f : List.of("report.md", "report.json", "report.html", "pareto.png")) {
      assertTrue(Files.exists(report.resolve(f)), f + "\n" + buf);
    }
    JsonNode json = Json.MAPPER.readTree(report.resolve("report.json").toFile());
    assertTrue(json.toString().contains("\"lora\""), json.toString());
    assertTrue(c.methods().get(1).fisherPerLayer().size() == 2, "EWC's Fisher mass per layer");
    assertTrue(c.methods().get(2).trainableParams() < c.methods().get(0).trainableParams() / 5, "LoRA trains few parameters");
    assertTrue(c.methods().get(0).peakRssBytes() > 0 && c.methods().get(0).curve().size() >= 1);
    assertTrue(Files.exists(tmp.resolve("cmp/lora/adapter/adapter_config.json")));
  }

  @Test
  void relativeOutputBecomesAbsoluteForTheChildRuns() {
    // A relative --output once reached each method's config (written under <output>/configs/) as is,
    // and the child run read it relative to that folder: runs/demo/configs/runs/demo/naive.
    Path root = Compare.outputRoot(Path.of("runs/demo"), null);
    assertTrue(root.isAbsolute(), root.toString());
    assertEquals(Path.of("").toAbsolutePath().resolve("runs/demo"), root);
    assertEquals(Path.of("/x/cmp"), Compare.outputRoot(null, Path.of("/x/cmp")));
  }
}
