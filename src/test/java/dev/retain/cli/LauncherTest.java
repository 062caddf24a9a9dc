package dev.retain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's choice of native allocator (RETAIN_MALLOC), run against a copy of the script whose
 * jar is up to date and whose {@code java} is a stand-in that prints the environment it was given.
 */
class LauncherTest {
  static final List<String> TCMALLOC_PATHS = List.of("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
      "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4", "/usr/lib64/libtcmalloc_minimal.so.4",
      "/usr/lib/libtcmalloc_minimal.so.4", "/usr/local/lib/libtcmalloc_minimal.so.4");
  static final List<String> VARS = List.of("LD_PRELOAD", "MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_",
      "MALLOC_TRIM_THRESHOLD_", "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD");

  @TempDir Path dir;

  record Run(int exit, String stdout, Map<String, String> env) {}

  /** Runs the copied launcher with these variables (null removes one) and parses what the stand-in java printed. */
  Run launch(Map<String, String> vars) throws IOException, InterruptedException {
    Path home = dir.resolve("home");
    if (!Files.exists(home)) {
      Files.createDirectories(home.resolve("target/lib"));
      Files.copy(Path.of(System.getProperty("user.dir"), "retain"), home.resolve("retain"));
      Files.writeString(home.resolve("target/retain.jar"), ""); // no sources here, so never stale
      Path bin = Files.createDirectories(dir.resolve("bin"));
      StringBuilder script = new StringBuilder("#!/usr/bin/env bash\n");
      for (String v : VARS) {
        script.append("echo \"").append(v).append("=${").append(v).append(":-}\"\n");
      }
      Path java = bin.resolve("java");
      Files.writeString(java, script.toString());
      Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    ProcessBuilder pb = new ProcessBuilder("bash", home.resolve("retain").toString(), "version");
    Map<String, String> env = pb.environment();
    VARS.forEach(env::remove);
    env.remove("RETAIN_MALLOC");
    env.put("PATH", dir.resolve("bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
    vars.forEach((k, v) -> {
      if (v == null) {
        env.remove(k);
      } else {
        env.put(k, v);
      }
    });
    Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start(); // ld.so warns about fake preloads
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher should return at once");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> seen = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        seen.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return new Run(p.exitValue(), out, seen);
  }

  static void assertGlibcTuned(Run r) {
    assertEquals("1", r.env().get("MALLOC_ARENA_MAX"), r.stdout());
    assertEquals("0", r.env().get("MALLOC_MMAP_MAX_"), r.stdout());
    assertEquals("68719476736", r.env().get("MALLOC_TRIM_THRESHOLD_"), r.stdout());
  }

  @Test
  void unknownAllocatorIsRefusedWithTheChoicesBeforeAnything() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", Path.of(System.getProperty("user.dir"), "retain").toString(), "version")
        .redirectErrorStream(true);
    pb.environment().put("RETAIN_MALLOC", "mimalloc");
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher should fail at once");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, p.exitValue(), out);
    assertTrue(out.contains("RETAIN_MALLOC must be auto, tcmalloc, glibc-tuned or glibc, got 'mimalloc'"), out);
    assertFalse(out.contains("building"), "nothing is built first: " + out);
  }

  @Test
  void namedAllocatorsSetTheirVariablesAndKeepYours() throws Exception {
    Run tuned = launch(Map.of("RETAIN_MALLOC", "glibc-tuned"));
    assertEquals(0, tuned.exit(), tuned.stdout());
    assertGlibcTuned(tuned);
    assertEquals("", tuned.env().get("LD_PRELOAD"));

    Run own = launch(Map.of("RETAIN_MALLOC", "glibc-tuned", "MALLOC_ARENA_MAX", "4"));
    assertEquals("4", own.env().get("MALLOC_ARENA_MAX"), "a value you set wins");

    Run plain = launch(Map.of("RETAIN_MALLOC", "glibc"));
    for (String v : VARS) {
      assertEquals("", plain.env().get(v), v + " under glibc's defaults");
    }
  }

  @Test
  void autoPicksTcmallocWhenInstalledAndLeavesYourPreloadAlone() throws Exception {
    String installed = TCMALLOC_PATHS.stream().filter(p -> Files.isRegularFile(Path.of(p))).findFirst().orElse(null);
    Run auto = launch(Map.of());
    assertEquals(0, auto.exit(), auto.stdout());
    if (installed != null) {
      assertEquals(installed, auto.env().get("LD_PRELOAD"));
      assertEquals("1099511627776", auto.env().get("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"));
      assertEquals("", auto.env().get("MALLOC_ARENA_MAX"));
    } else {
      assertGlibcTuned(auto);
      assertEquals("", auto.env().get("LD_PRELOAD"));
    }

    // a preload of your own stays as it is, with glibc-tuned's settings beside it
    Run own = launch(Map.of("LD_PRELOAD", "/opt/none/libfoo.so"));
    assertEquals("/opt/none/libfoo.so", own.env().get("LD_PRELOAD"));
    assertGlibcTuned(own);

    // tcmalloc preloaded already, from anywhere: kept, and treated as tcmalloc
    Run pre = launch(Map.of("LD_PRELOAD", "/opt/none/libtcmalloc_minimal.so.4"));
    assertEquals("/opt/none/libtcmalloc_minimal.so.4", pre.env().get("LD_PRELOAD"));
    assertEquals("1099511627776", pre.env().get("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"));
    assertEquals("", pre.env().get("MALLOC_ARENA_MAX"));

    Run asked = launch(Map.of("RETAIN_MALLOC", "tcmalloc", "LD_PRELOAD", "/opt/none/libfoo.so"));
    if (installed != null) {
      assertEquals(installed + ":/opt/none/libfoo.so", asked.env().get("LD_PRELOAD"), "tcmalloc goes first");
    } else {
      assertEquals(1, asked.exit(), "RETAIN_MALLOC=tcmalloc without tcmalloc installed is an error");
    }
  }
}
