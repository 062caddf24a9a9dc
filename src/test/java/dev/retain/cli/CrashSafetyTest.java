package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.CausalLM;
import dev.retain.model.ModelSaver;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.testutil.Cli;
import dev.retain.testutil.Tiny;
import dev.retain.train.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A killed process loses nothing: a real separate JVM running `retain train` is SIGKILLed during a
 * step and during a checkpoint write (held there by an injected fault); the latest checkpoint stays
 * loadable and `--resume` reaches the same final weights as an uninterrupted run. A full disk during
 * a checkpoint write fails the run clearly and leaves the previous checkpoint intact.
 */
class CrashSafetyTest {
  @TempDir Path tmp;
  Path yaml;

  @BeforeEach
  void setUp() throws Exception {
    Tiny.tokenizer(tmp);
    try (CausalLM m = Tiny.model(11)) {
      ModelSaver.save(m, tmp.resolve("base"), DType.F32, null);
    }
    Files.copy(tmp.resolve("tokenizer.json"), tmp.resolve("base/tokenizer.json"));
    Tiny.domain(tmp.resolve("d.jsonl"), 48);
    Tiny.arithmetic(tmp.resolve("g.jsonl"), 64, 0);
    yaml = tmp.resolve("run.yaml");
    Files.writeString(yaml, String.join("\n",
        "model: base",
        "output: out",
        "data:",
        "  seq_len: 32",
        "  sources:",
        "    domain: {train: d.jsonl}",
        "    general: {train: g.jsonl, role: general}",
        "  replay: {schedule: linear, start: 0.15, end: 0.3}",
        "training:",
        "  epochs: 2",
        "  batch_size: 4",
        "  lr: 0.003",
        "  checkpoint_every: 2",
        "  keep_checkpoints: 5",
        ""));
  }

  private static int inProcess(String... args) {
    return Cli.run(args).code();
  }

  private float[][] finalWeights(Path out) throws Exception {
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model/model.safetensors"))) {
      List<String> names = f.names();
      float[][] w = new float[names.size()][];
      for (int i = 0; i < w.length; i++) {
        w[i] = f.readFloats(names.get(i));
      }
      return w;
    }
  }

  /** Starts `retain train` in a child JVM held at the fault point, waits for it, kills it with SIGKILL. */
  private void killAt(String fault, Path out) throws Exception {
    Path marker = tmp.resolve("marker-" + System.nanoTime());
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        "-Dretain.fault=" + fault, "-Dretain.fault.marker=" + marker, "-Dai.djl.pytorch.num_threads=2",
        Main.class.getName(), "train", "--config", yaml.toString(), "--output", out.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(Files.exists(marker), "child never reached " + fault + ":\n" + Files.readString(tmp.resolve("child.log")));
    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
    assertTrue(p.waitFor(1, TimeUnit.MINUTES));
    assertEquals(137, p.exitValue(), "killed by SIGKILL");
  }

  @Test
  void killedDuringAStepOrACheckpointWriteResumesToTheSameWeights() throws Exception {
    assertEquals(0, inProcess("train", "--config", yaml.toString(), "--output", tmp.resolve("full").toString()));
    float[][] full = finalWeights(tmp.resolve("full"));

    // Killed in the middle of step 5 (after backward, before the update): checkpoint 4 is the latest.
    Path a = tmp.resolve("killed-in-step");
    killAt("step.mid@5:hang", a);
    assertEquals("step-00000004", new Checkpoints(a.resolve("checkpoints"), 5).latest().orElseThrow().getFileName().toString());
    assertEquals(0, inProcess("train", "--config", yaml.toString(), "--output", a.toString(), "--resume"));
    assertWeightsEqual(full, finalWeights(a));

    // Killed while checkpoint 6 is half written: only its staging folder exists; 4 stays the latest and loads.
    Path b = tmp.resolve("killed-in-checkpoint");
    killAt("checkpoint.mid-write@6:hang", b);
    Checkpoints ck = new Checkpoints(b.resolve("checkpoints"), 5);
    Path latest = ck.latest().orElseThrow();
    assertEquals("step-00000004", latest.getFileName().toString());
    assertEquals(4, Checkpoints.load(latest).state().step);
    try (var s = Files.list(b.resolve("checkpoints"))) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith(".step-00000006")), "the half-written checkpoint is a hidden staging folder");
    }
    assertEquals(0, inProcess("train", "--config", yaml.toString(), "--output", b.toString(), "--resume"));
    assertWeightsEqual(full, finalWeights(b));
  }

  @Test
  void fullDiskDuringACheckpointFailsClearlyAndKeepsThePreviousOne() throws Exception {
    Path out = tmp.resolve("disk-full");
    Cli.Run r;
    System.setProperty("retain.fault", "checkpoint.mid-write@4:fail");
    try {
      r = Cli.run("train", "--config", yaml.toString(), "--output", out.toString());
    } finally {
      System.clearProperty("retain.fault");
    }
    assertEquals(2, r.code());
    String msg = r.err();
    assertTrue(msg.contains("step-00000004") && msg.contains("previous checkpoint is intact") && msg.contains("disk looks full"), msg);
    Checkpoints ck = new Checkpoints(out.resolve("checkpoints"), 5);
    assertEquals("step-00000002", ck.latest().orElseThrow().getFileName().toString());
    assertEquals(2, Checkpoints.load(ck.latest().orElseThrow()).state().step);
    try (var s = Files.list(out.resolve("checkpoints"))) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().contains("00000004")), "no trace of the failed checkpoint");
    }
  }

  private static void assertWeightsEqual(float[][] want, float[][] got) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      assertArrayEquals(want[i], got[i], "tensor " + i);
    }
  }
}
