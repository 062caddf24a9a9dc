package dev.retain.compare;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.config.ConfigBinder;
import dev.retain.eval.report.Comparison;
import dev.retain.eval.report.ComparisonReport;
import dev.retain.eval.report.CurvePoint;
import dev.retain.eval.report.Machine;
import dev.retain.eval.report.MethodResult;
import dev.retain.eval.report.Score;
import dev.retain.eval.report.SuiteScore;
import dev.retain.model.CausalLM;
import dev.retain.retention.Importance;
import dev.retain.train.RunConfig;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * `retain compare`: trains every method on the same data and seed, each in its own JVM (so a crash
 * stays contained and peak memory is measured per method), evaluates the probes before and after,
 * and writes the method-by-method report (report.md, report.json, report.html with charts).
 *
 * <p>Layout of the output folder: {@code <method>/} is an ordinary `retain train` output (model or
 * adapter, metrics.jsonl, eval.json, summary.json), {@code configs/<method>.yaml} the config each
 * method ran with, {@code report/} the comparison.
 */
public final class Compare {
  private Compare() {}

  /** Options of a comparison run. */
  public record Options(Path config, List<String> overrides, List<String> methods, Path output, String preset,
                        boolean overwrite, String javaOptions) {}

  public static Comparison run(Options o, PrintStream out) throws Exception {
    RunConfig user = ConfigBinder.load(o.config(), RunConfig.class, o.overrides());
    if (user.eval.probes == null) {
      throw new IllegalArgumentException(o.config() + ": compare needs eval.probes (the probe suites that measure "
          + "general and domain knowledge)");
    }
    Path root = outputRoot(o.output(), user.output);
    Files.createDirectories(root.resolve("configs"));
    List<MethodResult> results = new ArrayList<>();
    JsonNode baseEval = null;
    for (String method : o.methods()) {
      RunConfig cfg = ConfigBinder.load(o.config(), RunConfig.class, o.overrides());
      Methods.apply(method, cfg, user);
      Path dir = root.resolve(method);
      cfg.output = dir;
      ConfigBinder.validate(cfg);
      Path yaml = root.resolve("configs").resolve(method + ".yaml");
      AtomicFiles.writeString(yaml, ConfigBinder.toYaml(cfg));
      String description = Methods.describe(method, cfg);
      out.printf("%n== %s: %s%n", method, description);
      if (o.overwrite()) {
        AtomicFiles.deleteTree(dir);
      }
      Path seed = root.resolve(o.methods().get(0)).resolve("eval-before.json");
      if (!method.equals(o.methods().get(0)) && Files.exists(seed)) {
        // Every method starts from the same base model: measure its probes once.
        Files.createDirectories(dir);
        Files.copy(seed, dir.resolve("eval-before.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      long t0 = System.nanoTime();
      int code = trainInChild(yaml, o, dir, out);
      if (code != 0) {
        List<String> lines = Files.readAllLines(dir.resolve("train.log"));
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        throw new IllegalArgumentException("compare: method '" + method + "' failed (exit " + code + "):\n" + tail + "\nfull log: "
            + dir.resolve("train.log") + "; rerun that method alone with: retain train --config " + yaml);
      }
      double wall = (System.nanoTime() - t0) / 1e9;
      JsonNode eval = Json.MAPPER.readTree(dir.resolve("eval.json").toFile());
      if (baseEval == null) {
        baseEval = eval;
      }
      results.add(result(method, description, dir, eval, wall));
    }
    Comparison c = new Comparison(String.valueOf(user.model), pooled(baseEval, "general", "before"),
        pooled(baseEval, "domain", "before"), textCe(baseEval, "before"), suites(baseEval, "before"), o.preset(), user.seed,
        describeData(user), results, Machine.current(), LocalDate.now().toString());
    List<Path> files = ComparisonReport.write(c, root.resolve("report"));
    out.println();
    out.println(ComparisonReport.markdownTable(c));
    out.println("report: " + files.stream().map(Path::toString).reduce((a, b) -> a + ", " + b).orElse(""));
    return c;
  }

  /**
   * The comparison's folder: --output (relative to the working directory) or the config's output,
   * made absolute, because each method's config is written under {@code <root>/configs/} and a
   * relative output there would be read relative to that folder by the child run.
   */
  static Path outputRoot(Path cliOutput, Path configOutput) {
    Path p = cliOutput != null ? cliOutput : configOutput;
    if (p == null) {
      throw new IllegalArgumentException("compare: no output folder; give --output or set output: in the config");
    }
    return p.toAbsolutePath().normalize();
  }

  /** Runs `retain train` for one method in a child JVM, its output teed to <dir>/train.log. */
  static int trainInChild(Path yaml, Options o, Path dir, PrintStream out) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String opt : o.javaOptions().trim().split("\\s+")) {
      if (!opt.isEmpty()) {
        cmd.add(opt);
      }
    }
    for (String p : List.of("ai.djl.offline", "ai.djl.pytorch.num_threads", "ai.djl.pytorch.num_interop_threads")) {
      if (System.getProperty(p) != null) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    cmd.add("dev.retain.cli.Main");
    cmd.add("train");
    cmd.add("--config");
    cmd.add(yaml.toString());
    Files.createDirectories(dir);
    Path log = dir.getParent().resolve(dir.getFileName() + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OPT_OUT_TRACKING", "true");
    Process p = pb.start();
    try (var in = p.getInputStream(); var file = Files.newOutputStream(log)) {
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        file.write(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    p.waitFor();
    Files.move(log, dir.resolve("train.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return p.exitValue();
  }

  static MethodResult result(String method, String description, Path dir, JsonNode eval, double wall) throws IOException {
    JsonNode summary = Json.MAPPER.readTree(dir.resolve("summary.json").toFile());
    MethodResult.Builder b = MethodResult.builder(method).description(description)
        .general(pooled(eval, "general", "after")).domain(pooled(eval, "domain", "after"))
        .generalCe(textCe(eval, "after"))
        .params(summary.path("trainable_params").asLong(), summary.path("total_params").asLong())
        .peakRssBytes(summary.path("peak_rss_bytes").asLong())
        .tokensPerSecond(summary.path("tokens_per_second").asDouble())
        .wallSeconds(wall)
        .suites(suites(eval, "after"));
    Map<Long, Double> loss = new TreeMap<>();
    List<JsonNode> probes = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
      JsonNode n = Json.MAPPER.readTree(line);
      switch (n.path("kind").asText()) {
        case "train" -> loss.put(n.path("step").asLong(), n.path("loss").asDouble());
        case "probe" -> probes.add(n);
        default -> { }
      }
    }
    for (JsonNode p : probes) {
      long step = p.path("step").asLong();
      Map.Entry<Long, Double> l = ((TreeMap<Long, Double>) loss).floorEntry(step);
      b.point(new CurvePoint(step, p.path("general").asDouble(), p.path("domain").asDouble(), l == null ? Double.NaN : l.getValue()));
    }
    Path fisher = dir.resolve("importance/fisher.safetensors");
    if (Files.exists(fisher)) {
      Importance f = Importance.load(fisher);
      Map<Integer, Double> perLayer = new TreeMap<>();
      for (String name : f.names()) {
        int layer = CausalLM.layerIndex(name);
        if (layer >= 0) {
          double sum = 0;
          for (float v : f.values(name)) {
            sum += v;
          }
          perLayer.merge(layer, sum, Double::sum);
        }
      }
      b.fisher(perLayer);
    }
    return b.build();
  }

  /** Accuracy pooled over the exact and choice suites of a role, with its Wilson interval. */
  static Score pooled(JsonNode eval, String role, String which) {
    long correct = 0;
    long n = 0;
    for (JsonNode s : eval.path("suites")) {
      if (role.equals(s.path("role").asText()) && !"text".equals(s.path("kind").asText()) && s.has(which)) {
        correct += s.path(which).path("correct").asLong();
        n += s.path("n").asLong();
      }
    }
    return n == 0 ? Score.missing() : Score.wilson(correct, n);
  }

  /** Mean cross-entropy over the general text suites. */
  static double textCe(JsonNode eval, String which) {
    double sum = 0;
    int n = 0;
    for (JsonNode s : eval.path("suites")) {
      if ("general".equals(s.path("role").asText()) && "text".equals(s.path("kind").asText()) && s.has(which)) {
        sum += s.path(which).path("cross_entropy").asDouble();
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  static List<SuiteScore> suites(JsonNode eval, String which) {
    List<SuiteScore> out = new ArrayList<>();
    for (JsonNode s : eval.path("suites")) {
      JsonNode w = s.path(which);
      double score = "text".equals(s.path("kind").asText()) ? w.path("cross_entropy").asDouble() : w.path("accuracy").asDouble();
      out.add(new SuiteScore(s.path("name").asText(), s.path("role").asText(), s.path("kind").asText(), score));
    }
    return out;
  }

  static String describeData(RunConfig cfg) {
    Map<String, String> parts = new LinkedHashMap<>();
    cfg.data.sources.forEach((k, v) -> parts.put(k, v.role.name().toLowerCase(java.util.Locale.ROOT) + " " + v.train.getFileName()));
    String length = cfg.training.maxSteps != null
        ? cfg.training.maxSteps + " steps of " + cfg.training.batchSize + " rows"
        : cfg.training.epochs + " epoch(s)";
    return parts.toString() + ", seq_len " + cfg.data.seqLen + ", " + length;
  }
}
