package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A seconds-long smoke run of the benchmark: it completes and prints the table. Nothing about speed. */
class BenchSmokeTest {
  @TempDir Path tmp;

  @Test
  void smokeRunPrintsEveryCase() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream old = System.out;
    PrintStream oldErr = System.err;
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      code = Main.execute("bench", "--smoke", "--peer", "off", "--out", tmp.toString());
    } finally {
      System.setOut(old);
      System.setErr(oldErr);
    }
    String text = out.toString(StandardCharsets.UTF_8);
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
    // bench/peer.py draws its ids with the same SplitMix64; these are the first ids it prints for seed 42, vocab 4096
    long[] ids = Workload.syntheticIds(1, 4, 4096, 42);
    Workload.SplitMix r = new Workload.SplitMix(42);
    for (long id : ids) {
      assertEquals(3 + Long.remainderUnsigned(r.next(), 4093), id);
      assertTrue(id >= 3 && id < 4096);
    }
  }
}
