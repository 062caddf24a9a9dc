package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `retain demo --preset smoke` on the bundled base model and data: every method runs and the report is written. */
class DemoSmokeTest {
  @TempDir Path tmp;

  @Test
  void smokeDemoRunsEveryMethodAndWritesTheReport() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = System.out;
    int code;
    System.setProperty("retain.home", Path.of("").toAbsolutePath().toString());
    try {
      System.setOut(new PrintStream(buf, true));
      code = Main.execute("demo", "--preset", "smoke", "--output", tmp.resolve("demo").toString());
    } finally {
      System.setOut(out);
      System.clearProperty("retain.home");
    }
    assertEquals(0, code, buf.toString());
    for (String f : new String[] {"report.md", "report.json", "report.html"}) {
      assertTrue(Files.exists(tmp.resolve("demo/report/" + f)), f);
    }
    String table = buf.toString();
    for (String m : new String[] {"naive", "replay", "staged", "ewc", "lora", "adapters", "distill", "all"}) {
      assertTrue(table.contains(m), m + " missing from:\n" + table);
    }
  }
}
