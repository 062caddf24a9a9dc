package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The launcher script refuses an unknown allocator before it builds or starts anything. */
class LauncherTest {
  @Test
  void unknownAllocatorIsRefusedWithTheChoices() throws Exception {
    Path launcher = Path.of(System.getProperty("user.dir"), "retain");
    assertTrue(Files.isRegularFile(launcher), "the launcher lies at the repository root: " + launcher);
    ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "version").redirectErrorStream(true);
    pb.environment().put("RETAIN_MALLOC", "mimalloc");
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher should fail at once");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, p.exitValue(), out);
    assertTrue(out.contains("RETAIN_MALLOC must be auto, tcmalloc, glibc-tuned or glibc, got 'mimalloc'"), out);
    assertTrue(!out.contains("building"), "nothing is built first: " + out);
  }
}
