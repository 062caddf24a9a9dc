package dev.retain.bench;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.retain.model.ModelConfig;
import dev.retain.util.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one case of retain (in a child JVM, or in this process for smoke runs) and of the PyTorch peer
 * (bench/peer.py under Debian's python3-torch), and reads back their {@link CaseResult}s.
 */
public final class Runner {
  /** Reads the peer's JSON, which may hold NaN. */
  static final ObjectMapper LENIENT = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  /** How to run. */
  public record Setup(String modelSpec, ModelConfig config, Workload.Settings settings, int threads, boolean fork,
                      String javaOpts, String peerPython, Path peerScript, boolean matmul, String ompWaitPolicy,
                      Map<String, String> env, PrintStream log) {}

  private final Setup s;
  private String peerProblem;
  private boolean peerChecked;

  public Runner(Setup setup) {
    this.s = setup;
  }

  /** retain's measurement of one case. */
  public CaseResult retain(BenchCase kase) throws IOException, InterruptedException {
    return retain(kase, null);
  }

  /** As {@link #retain(BenchCase)}, also writing a libtorch profiler trace of one more unit to {@code profileOut}. */
  public CaseResult retain(BenchCase kase, Path profileOut) throws IOException, InterruptedException {
    if (!s.fork()) {
      dev.retain.tensor.Backend.engine();
      int before = ai.djl.pytorch.jni.JniUtils.getNumThreads();
      ai.djl.pytorch.jni.JniUtils.setNumThreads(s.threads());
      try {
        return Worker.measure(kase, s.modelSpec(), s.config(), s.settings(), s.matmul(),
            profileOut == null ? null : profileOut.toString());
      } finally {
        ai.djl.pytorch.jni.JniUtils.setNumThreads(before);
      }
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    for (String o : s.javaOpts().trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-Dai.djl.pytorch.num_threads=" + s.threads());
    cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Worker.class.getName());
    Workload.Settings w = s.settings();
    String modelArg = BenchModels.isNamed(s.modelSpec()) ? s.modelSpec() : Path.of(s.modelSpec()).toAbsolutePath().toString();
    for (Object a : new Object[] {kase.id, modelArg, w.batch(), w.seq(), w.steps(), w.warmup(), w.seed(), w.loraR(),
        w.genPrompt(), w.genTokens(), w.targetShare()}) {
      cmd.add(String.valueOf(a));
    }
    if (profileOut != null) {
      cmd.add(profileOut.toAbsolutePath().toString());
    }
    return Json.MAPPER.readValue(launch(cmd, "retain " + kase.id), CaseResult.class);
  }

  /** The peer's measurement of one case, or null when the peer is unavailable (see {@link #peerProblem}). */
  public CaseResult peer(BenchCase kase) throws IOException, InterruptedException {
    return peer(kase, null);
  }

  /** As {@link #peer(BenchCase)}, also writing torch's profiler trace of one more unit to {@code profileOut}. */
  public CaseResult peer(BenchCase kase, Path profileOut) throws IOException, InterruptedException {
    if (peerProblem() != null) {
      return null;
    }
    return LENIENT.readValue(peerJson(kase, profileOut, null), CaseResult.class);
  }

  /** The peer's losses of every unit (warm-up included) when started from retain's weights in {@code weights}. */
  public double[] peerLosses(BenchCase kase, Path weights) throws IOException, InterruptedException {
    com.fasterxml.jackson.databind.JsonNode n = LENIENT.readTree(peerJson(kase, null, weights));
    double[] out = new double[n.path("losses").size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = n.path("losses").get(i).asDouble();
    }
    return out;
  }

  private String peerJson(BenchCase kase, Path profileOut, Path initFrom) throws IOException, InterruptedException {
    Workload.Settings w = s.settings();
    List<String> cmd = new ArrayList<>(List.of(s.peerPython(), s.peerScript().toString(), "--case", kase.id,
        "--config", Json.MAPPER.writeValueAsString(s.config().toJson()), "--model-label", BenchModels.label(s.modelSpec()),
        "--batch", "" + w.batch(), "--seq", "" + w.seq(), "--steps", "" + w.steps(), "--warmup", "" + w.warmup(),
        "--seed", "" + w.seed(), "--threads", "" + s.threads(), "--lora-r", "" + w.loraR(),
        "--lora-alpha", "" + w.loraAlpha(), "--gen-prompt", "" + w.genPrompt(), "--gen-tokens", "" + w.genTokens(),
        "--lr", "" + w.lr(), "--ewc-lambda", "" + w.ewcLambda(), "--kd-weight", "" + w.kdWeight(),
        "--kd-temperature", "" + w.kdTemperature(), "--target-share", "" + w.targetShare()));
    if (!s.matmul()) {
      cmd.add("--no-matmul");
    }
    if (profileOut != null) {
      cmd.add("--profile-out");
      cmd.add(profileOut.toAbsolutePath().toString());
    }
    if (initFrom != null) {
      cmd.add("--init-from");
      cmd.add(initFrom.toAbsolutePath().toString());
    }
    return launch(cmd, "peer " + kase.id);
  }

  /** Why the peer cannot run (null when it can): no script, no python, or torch not importable. */
  public String peerProblem() throws InterruptedException {
    if (peerChecked) {
      return peerProblem;
    }
    peerChecked = true;
    if (s.peerScript() == null || !Files.isRegularFile(s.peerScript())) {
      peerProblem = "bench/peer.py not found (run from the repository root, or pass --peer-script)";
      return peerProblem;
    }
    try {
      Process p = new ProcessBuilder(s.peerPython(), "-c", "import torch; print(torch.__version__)")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
        peerProblem = s.peerPython() + " cannot import torch (" + last + ")";
      }
    } catch (IOException e) {
      peerProblem = s.peerPython() + " cannot be started (" + e.getMessage() + ")";
    }
    if (peerProblem != null) {
      peerProblem += "; install the peer with: apt-get install python3-torch libopenblas0-openmp";
    }
    return peerProblem;
  }

  private String launch(List<String> cmd, String what) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.put("OPT_OUT_TRACKING", "true");
    env.put("DJL_OFFLINE", "true");
    if (s.ompWaitPolicy() != null) {
      env.put("OMP_WAIT_POLICY", s.ompWaitPolicy());
    }
    if (s.env() != null) {
      env.putAll(s.env());
    }
    Process p = pb.start();
    StringBuilder err = new StringBuilder();
    Thread drain = new Thread(() -> drain(p.getErrorStream(), err), "bench-stderr");
    drain.setDaemon(true);
    drain.start();
    String result = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith(Worker.PREFIX)) {
          result = line.substring(Worker.PREFIX.length());
        }
      }
    }
    int code = p.waitFor();
    drain.join(5000);
    if (code != 0 || result == null) {
      String tail;
      synchronized (err) {
        tail = err.length() > 3000 ? err.substring(err.length() - 3000) : err.toString();
      }
      throw new IOException(what + " failed (exit " + code + "): " + tail.strip());
    }
    return result;
  }

  private static void drain(InputStream in, StringBuilder sink) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        synchronized (sink) {
          sink.append(line).append('\n');
          if (sink.length() > 20000) {
            sink.delete(0, sink.length() - 10000);
          }
        }
      }
    } catch (IOException e) {
      // the child ended
    }
  }

  static String javaBinary() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** The Python that sees Debian's python3-torch: RETAIN_PEER_PYTHON, else /usr/bin/python3, else python3. */
  public static String defaultPython() {
    String env = System.getenv("RETAIN_PEER_PYTHON");
    if (env != null && !env.isBlank()) {
      return env;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** bench/peer.py: under the working directory, under -Dretain.home, or beside the jar's folder. */
  public static Path defaultPeerScript() {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("bench", "peer.py"));
    String home = System.getProperty("retain.home");
    if (home != null) {
      candidates.add(Path.of(home, "bench", "peer.py"));
    }
    try {
      Path jar = Path.of(Runner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = jar.getParent();
      for (int i = 0; i < 3 && dir != null; i++) {
        candidates.add(dir.resolve("bench").resolve("peer.py"));
        dir = dir.getParent();
      }
    } catch (Exception e) {
      // no code source: only the working directory
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c.toAbsolutePath().normalize();
      }
    }
    return candidates.get(0).toAbsolutePath();
  }
}
