package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelSaver;
import dev.retain.model.safetensors.DType;
import dev.retain.testutil.Cli;
import dev.retain.testutil.Tiny;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  @TempDir Path tmp;

  @Test
  void printsATableAndWritesJsonWithForgettingAgainstTheBase() throws Exception {
    Tiny.tokenizer(tmp);
    for (String name : new String[] {"a", "b"}) {
      try (CausalLM m = Tiny.model(name.equals("a") ? 1 : 2)) {
        ModelSaver.save(m, tmp.resolve(name), DType.F32, null);
      }
      Files.copy(tmp.resolve("tokenizer.json"), tmp.resolve(name + "/tokenizer.json"));
    }
    Path probes = Files.createDirectories(tmp.resolve("probes"));
    Files.writeString(probes.resolve("suites.json"), "[{\"name\": \"math\", \"kind\": \"exact\", \"file\": \"m.jsonl\", \"role\": \"general\"},"
        + "{\"name\": \"mc\", \"kind\": \"choice\", \"file\": \"c.jsonl\", \"role\": \"domain\"},"
        + "{\"name\": \"prose\", \"kind\": \"text\", \"file\": \"t.jsonl\", \"role\": \"general\"}]");
    Files.writeString(probes.resolve("m.jsonl"), "{\"prompt\": \"1 plus 1 is\", \"answer\": \"2\"}\n{\"prompt\": \"2 plus 2 is\", \"answer\": \"4\"}\n");
    Files.writeString(probes.resolve("c.jsonl"), "{\"prompt\": \"the heart\", \"choices\": [\" pumps\", \" eats\", \" sings\", \" flies\"], \"answer\": 0}\n");
    Files.writeString(probes.resolve("t.jsonl"), "{\"text\": \"the heart pumps blood\"}\n");
    Cli.Run run = Cli.run("eval", "--model", tmp.resolve("b").toString(), "--base", tmp.resolve("a").toString(),
        "--probes", probes.toString(), "--out", tmp.resolve("report.json").toString());
    assertEquals(0, run.code(), run.out() + run.err());
    String table = run.out();
    assertTrue(table.contains("math") && table.contains("retention") && table.contains("gain") && table.contains("CE"), table);
    JsonNode r = Json.MAPPER.readTree(tmp.resolve("report.json").toFile());
    assertEquals(3, r.path("suites").size());
    assertTrue(r.path("suites").get(0).has("retention") && r.path("suites").get(1).has("gain") && r.path("suites").get(2).has("ce_rise"));
    double ci = r.path("suites").get(0).path("after").path("ci_high").asDouble();
    assertTrue(ci > 0 && ci <= 1);
  }
}
