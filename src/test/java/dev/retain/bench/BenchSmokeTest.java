package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.testutil.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A seconds-long smoke run of the benchmark: it completes and prints the table. Nothing about speed. */
class BenchSmokeTest {
  @TempDir Path tmp;

  @Test
  void smokeRunPrintsEveryCase() throws Exception {
    Cli.Run r = Cli.run("bench", "--smoke", "--peer", "off", "--out", tmp.toString());
    String text = r.out();
    int code = r.code();
    assertEquals(0, code, text);
    assertTrue(text.contains("| case | retain tok/s | PyTorch tok/s | retain/PyTorch |"), text);
    for (BenchCase c : BenchCase.values()) {
      assertTrue(text.contains("| " + c.title + " |"), c.title + " missing from:\n" + text);
    }
    assertTrue(text.contains("targets:"), text);
    assertTrue(Files.exists(tmp.resolve("bench-tiny.md")));
    assertTrue(Files.exists(tmp.resolve("bench-tiny.json")));
  }

  @Test
  void targetShareMakesARowStartWithoutTargets() throws Exception {
    Workload.Settings s = Workload.Settings.defaults().withShape(2, 16).withTargetShare(0.3);
    // 0.3 x 15 = 4.5 positions, rounded half up as bench/peer.py does: targets at 10..14, none at 15
    assertEquals(10, s.firstTarget());
    assertEquals(10, s.targetPositions());
    assertEquals(0, Workload.Settings.defaults().firstTarget());
    assertEquals(16 * 127, Workload.Settings.defaults().targetPositions());
    dev.retain.data.Batch b = Workload.syntheticBatch(0, 2, 16, s.firstTarget(), 4096, 42);
    long[] ids = b.inputIds();
    for (int i = 0; i < 32; i++) {
      int t = i % 16;
      long want = t >= 10 && t < 15 ? ids[i + 1] : dev.retain.data.Packer.IGNORE;
      assertEquals(want, b.targets()[i], "position " + i);
    }
    assertEquals(10, b.targetTokens());

    Cli.Run r = Cli.run("bench", "--smoke", "--peer", "off", "--cases", "full,lora_kd", "--target-share", "0.5",
        "--out", tmp.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("loss at 16 of 32 positions per step (--target-share 0.5"), r.out());
    Cli.Run bad = Cli.run("bench", "--smoke", "--peer", "off", "--target-share", "0");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--target-share must be in (0, 1]"), bad.err());
  }

  @Test
  void peerIdsMatchRetains() {
    // The first ids bench/peer.py draws for rows 1, seq 4, vocab 4096, seed 42 (printed by
    // python3 -c "...; print(peer.synthetic_ids(1, 4, 4096, 42))"): both sides train on the same data.
    assertArrayEquals(new long[] {872, 2899, 1439, 3293}, Workload.syntheticIds(1, 4, 4096, 42));
  }
}
