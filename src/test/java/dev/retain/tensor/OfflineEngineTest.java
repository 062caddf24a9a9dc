package dev.retain.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * libtorch and the tokenizers library load with no network: a fresh JVM with an empty DJL cache,
 * DJL's offline switch and every HTTP(S) connection routed to a dead proxy starts the engine, runs a
 * matmul and tokenises. If DJL wanted to download anything, the child would fail.
 */
class OfflineEngineTest {

  /** The child process. */
  public static void main(String[] args) throws Exception {
    Backend.configure();
    Engine e = Backend.engine();
    try (NDManager m = Backend.newManager()) {
      NDArray a = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
      float[] r = a.matMul(a).toFloatArray();
      System.out.println("ENGINE " + e.getEngineName() + " " + e.getVersion() + " matmul " + r[0] + "," + r[3]);
    }
    Path tok = Path.of(args[0]);
    Files.writeString(tok, dev.retain.util.Json.MAPPER.writeValueAsString(
        dev.retain.model.ByteLevelBpe.tokenizerJson(List.of("<s>"), List.of())));
    try (dev.retain.model.Tokenizer t = dev.retain.model.Tokenizer.load(tok)) {
      System.out.println("TOKENS " + t.encode("hi").length);
    }
  }

  @Test
  void engineAndTokenizerLoadOfflineIntoAnEmptyCache() throws Exception {
    Path cache = Files.createTempDirectory("retain-djl-cache");
    try {
      List<String> cmd = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
          "-Dai.djl.offline=true",
          "-Dhttp.proxyHost=127.0.0.1", "-Dhttp.proxyPort=9",
          "-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=9",
          "-Dai.djl.pytorch.num_threads=1",
          OfflineEngineTest.class.getName(), cache.resolve("tokenizer.json").toString()));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("DJL_CACHE_DIR", cache.toString());
      pb.environment().put("ENGINE_CACHE_DIR", cache.toString());
      pb.environment().put("DJL_OFFLINE", "true");
      pb.environment().remove("PYTORCH_VERSION");
      pb.environment().remove("PYTORCH_FLAVOR");
      pb.environment().remove("PYTORCH_LIBRARY_PATH");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM timed out:\n" + out);
      assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
      assertTrue(out.contains("ENGINE PyTorch 2.7.1 matmul 7.0,22.0"), out);
      assertTrue(out.contains("TOKENS 2"), out);
      try (Stream<Path> files = Files.walk(cache)) {
        assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("libtorch_cpu")),
            "libtorch was not unpacked from the jar into the fresh cache " + cache);
      }
    } finally {
      deleteTree(cache);
    }
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
