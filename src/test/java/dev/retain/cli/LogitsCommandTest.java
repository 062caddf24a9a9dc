package dev.retain.cli;

import static dev.retain.testutil.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.testutil.Cli;
import dev.retain.testutil.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line tools, run in-process through the same entry point as ./retain. */
class LogitsCommandTest {
  @TempDir Path tmp;

  @Test
  void logitsCommandReproducesTransformers() throws Exception {
    Path ref = Reference.tiny();
    Path out = tmp.resolve("out.safetensors");
    int code = Main.execute("logits", "--model", ref.resolve("model").toString(),
        "--input-ids", ref.resolve("inputs.safetensors").toString(), "--out", out.toString());
    assertEquals(0, code);
    try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(ref.resolve("reference.safetensors"))) {
      assertClose(want.readFloats("logits"), got.readFloats("logits"), 1e-4, "logits");
      assertClose(want.readFloats("loss_per_token"), got.readFloats("loss_per_token"), 1e-4, "loss_per_token");
    }
  }

  @Test
  void badInputGivesOneClearLineAndExitCode2() throws Exception {
    Path ref = Reference.tiny();
    Path junk = tmp.resolve("junk.safetensors");
    Files.write(junk, new byte[] {1, 2, 3});
    Cli.Run r = Cli.run("logits", "--model", ref.resolve("model").toString(),
        "--input-ids", junk.toString(), "--out", tmp.resolve("o.safetensors").toString());
    assertEquals(2, r.code());
    String msg = r.err();
    assertTrue(msg.startsWith("retain: error: ") && msg.contains("junk.safetensors"), msg);
    assertTrue(!Files.exists(tmp.resolve("o.safetensors")));
  }

  @Test
  void helpListsTheCommands() {
    Cli.Run r = Cli.run("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("logits") && r.out().contains("generate"), r.out());
  }
}
