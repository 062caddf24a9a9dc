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
  void peerIdsMatchRetains() {
    // The first ids bench/peer.py draws for rows 1, seq 4, vocab 4096, seed 42 (printed by
    // python3 -c "...; print(peer.synthetic_ids(1, 4, 4096, 42))"): both sides train on the same data.
    assertArrayEquals(new long[] {872, 2899, 1439, 3293}, Workload.syntheticIds(1, 4, 4096, 42));
  }
}
