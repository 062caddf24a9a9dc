package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.testutil.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `retain demo --preset smoke` on the bundled base model and data: every method runs and the report is written. */
class DemoSmokeTest {
  @TempDir Path tmp;

  @Test
  void smokeDemoRunsEveryMethodAndWritesTheReport() throws Exception {
    Cli.Run r;
    System.setProperty("retain.home", Path.of("").toAbsolutePath().toString());
    try {
      r = Cli.run("demo", "--preset", "smoke", "--output", tmp.resolve("demo").toString());
    } finally {
      System.clearProperty("retain.home");
    }
    assertEquals(0, r.code(), r.out() + r.err());
    for (String f : new String[] {"report.md", "report.json", "report.html"}) {
      assertTrue(Files.exists(tmp.resolve("demo/report/" + f)), f);
    }
    String table = r.out();
    for (String m : new String[] {"naive", "replay", "staged", "ewc", "lora", "adapters", "distill", "replay+distill", "all"}) {
      assertTrue(table.contains("| " + m + " "), m + " row missing from:\n" + table);
    }
  }
}
