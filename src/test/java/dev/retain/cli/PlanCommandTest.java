package dev.retain.cli;

import static dev.retain.testutil.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.testutil.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code retain plan}: both modes, the 7B line, and clear errors. */
class PlanCommandTest {
  @TempDir Path tmp;

  @Test
  void planShowsFullLoraAndSevenB() {
    Run r = run("plan", "--model", "base", "--lora", "16", "--batch", "4", "--seq", "256");
    assertEquals(0, r.code(), r.err());
    String out = r.out();
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
    Run r = run("plan", "--model", cfg.toString(), "--lora-targets", "all-linear");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), r.out());
  }

  @Test
  void fewerTargetPositionsPlanLess() {
    Run every = run("plan", "--model", "base");
    Run some = run("plan", "--model", "base", "--target-share", "0.25");
    assertEquals(0, some.code(), some.err());
    assertTrue(every.out().contains("loss at 2,048 positions"), every.out());
    assertTrue(some.out().contains("loss at 512 positions"), some.out());
    // the head's logit gradients: 2 N V floats, N = 512 of 2,048 positions, V = 4,096
    assertTrue(every.out().contains("| peak transient (backward) | 64.0 MiB |"), every.out());
    assertTrue(some.out().contains("| peak transient (backward) | 16.0 MiB |"), some.out());
    assertTrue(run("plan", "--model", "base", "--target-share", "0.3").out().contains("loss at 614 positions"),
        "0.3 x 2,048 = 614.4, rounded");
    Run zero = run("plan", "--model", "base", "--target-share", "0");
    assertEquals(0, zero.code(), zero.err());
    assertTrue(zero.out().contains("| peak transient (backward) | 0.0 MiB |"), zero.out());
    Run bad = run("plan", "--model", "base", "--target-share", "1.5");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--target-share must be between 0 and 1"), bad.err());
  }

  @Test
  void aBfloat16BaseAddsItsCopiesToLora() {
    Run r = run("plan", "--model", "base", "--base-precision", "bfloat16");
    assertEquals(0, r.code(), r.err());
    // 5,791,744 weights in the projections and the head, 2 B each
    assertTrue(r.out().contains("| part | full fine-tuning | LoRA r=8 (q_proj, v_proj), bfloat16 base |"), r.out());
    assertTrue(r.out().contains("| bfloat16 copies | 0.0 MiB | 11.0 MiB | 2 B x 5791744 weights"), r.out());
    // 2 N V logit gradients (64 MiB) and 1.5 N V more for the bfloat16 casts (48 MiB)
    assertTrue(r.out().contains("| peak transient (backward) | 64.0 MiB | 112.0 MiB |"), r.out());
    Run bad = run("plan", "--model", "base", "--base-precision", "bf16");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--base-precision must be float32 or bfloat16"), bad.err());
  }

  @Test
  void unknownTargetIsAUserError() {
    Run r = run("plan", "--model", "base", "--lora-targets", "qq_proj");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("qq_proj"), r.err());
  }
}
