package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retain plan}: both modes, the 7B line, and clear errors. */
class PlanCommandTest {
  @TempDir Path tmp;

  private static String[] run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream o = System.out;
    PrintStream e = System.err;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.execute(args);
    } finally {
      System.setOut(o);
      System.setErr(e);
    }
    return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void planShowsFullLoraAndSevenB() {
    String[] r = run("plan", "--model", "base", "--lora", "16", "--batch", "4", "--seq", "256");
    assertEquals("0", r[0], r[2]);
    String out = r[1];
    assertTrue(out.contains("| part | full fine-tuning | LoRA r=16 (q_proj, v_proj) |"), out);
    assertTrue(out.contains("Llama 7B"), out);
    assertTrue(out.contains("6,738,415,616 parameters"), out);
    assertTrue(out.contains("batch 4 x seq 256"), out);
    for (String part : new String[] {"runtime", "weights", "gradients", "adamw", "activations", "total (peak)"}) {
      assertTrue(out.contains("| " + part) || out.contains(part), part + " missing:\n" + out);
    }
  }

  @Test
  void planReadsAConfigJson() throws Exception {
    Path cfg = tmp.resolve("config.json");
    Files.writeString(cfg, dev.retain.util.Json.MAPPER.writeValueAsString(
        dev.retain.model.ModelConfig.llamaJson(100, 16, 32, 2, 4, 2)));
    String[] r = run("plan", "--model", cfg.toString(), "--lora-targets", "all-linear");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), r[1]);
  }

  @Test
  void unknownTargetIsAUserError() {
    String[] r = run("plan", "--model", "base", "--lora-targets", "qq_proj");
    assertEquals("2", r[0]);
    assertTrue(r[2].contains("qq_proj"), r[2]);
  }
}
