package dev.retain.bench;

import dev.retain.model.ModelConfig;
import dev.retain.util.Json;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The size sweep: full fine-tuning and LoRA q,v at 2m, base, 25m and 50m parameters, retain and the
 * PyTorch peer back to back; a markdown table, the raw JSON and two charts (tokens/s and peak memory
 * against parameters, with the plan's estimate beside the measured memory).
 */
public final class Sweep {
  private Sweep() {}

  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** One size's results. */
  public record Row(String name, long params, Bench.Report report) {}

  public static List<Row> run(Workload.Settings s, int threads, boolean fork, String javaOpts, String python, Path script,
      boolean peer, boolean peerRequired, String ompWaitPolicy, Map<String, String> env, int repeats, Path dir, PrintStream out)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    List<Row> rows = new ArrayList<>();
    String loadBefore = Bench.loadAverage();
    for (String name : BenchModels.SWEEP) {
      ModelConfig c = BenchModels.resolve(name);
      Runner.Setup setup = new Runner.Setup(name, c, s, threads, fork, javaOpts, python, script, true, ompWaitPolicy, env,
          System.err);
      Runner runner = new Runner(setup);
      if (peerRequired && runner.peerProblem() != null) {
        throw new IllegalArgumentException("--peer on: " + runner.peerProblem());
      }
      System.err.println("sweep: " + name);
      Bench.Report rep = Bench.run(runner, setup, List.of(BenchCase.FULL, BenchCase.LORA_QV), repeats, peer, System.err);
      rows.add(new Row(name, MemoryPlan.baseParams(c), rep));
    }
    String loadAfter = Bench.loadAverage();
    String md = markdown(rows, s, threads, loadBefore, loadAfter) + (rows.isEmpty() ? ""
        : "\nEnvironment of both sides: " + rows.get(0).report().envNote + ". Peer: " + rows.get(0).report().peerNote + ".\n");
    out.println();
    out.print(md);
    Files.writeString(dir.resolve("sweep.md"), md);
    Map<String, Object> raw = new LinkedHashMap<>();
    for (Row r : rows) {
      raw.put(r.name(), r.report().runs);
    }
    Json.PRETTY.writeValue(dir.resolve("sweep.json").toFile(), raw);
    chart(rows, dir.resolve("sweep-throughput.png"), "Training throughput", "tokens / s", false);
    chart(rows, dir.resolve("sweep-memory.png"), "Peak resident memory", "MiB", true);
    out.println("wrote " + dir.resolve("sweep.md") + ", sweep.json, sweep-throughput.png, sweep-memory.png");
    return rows;
  }

  static String markdown(List<Row> rows, Workload.Settings s, int threads, String loadBefore, String loadAfter) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Size sweep: batch %d x seq %d, %d thread(s), %d timed steps after %d warm-up; "
        + "LoRA r=%d on q_proj, v_proj. Load average before: %s; after: %s.%n%n", s.batch(), s.seq(), threads, s.steps(),
        s.warmup(), s.loraR(), loadBefore, loadAfter));
    sb.append("| model | params | case | retain tok/s | PyTorch tok/s | retain/PyTorch | MFU retain | MFU PyTorch "
        + "| matmul GFLOP/s | peak RSS retain | peak RSS PyTorch | plan | plan error |\n");
    sb.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      for (Bench.CaseRuns c : r.report().runs.values()) {
        double rt = c.retainTokensPerSecond();
        double pt = c.peerTokensPerSecond();
        MemoryPlan plan = r.report().plan(c.kase);
        double measured = c.retainPeakRss();
        sb.append(String.format(Locale.ROOT, "| %s | %.1fM | %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s |%n",
            r.name(), r.params() / 1e6, c.kase.title, Bench.num(rt), Bench.num(pt), Bench.ratio(c.ratio()),
            Bench.pct(r.report().mfu(c.kase, rt)), Bench.pct(r.report().mfu(c.kase, pt)), r.report().matmulPeak(),
            Bench.mib(measured), Bench.mib(c.peerPeakRss()), plan == null ? "" : Bench.mib(plan.total()),
            plan == null ? "" : String.format(Locale.ROOT, "%+.1f%%", 100.0 * (plan.total() - measured) / measured)));
      }
    }
    return sb.toString();
  }

  private static final Color[] COLOURS = {new Color(0x4E79A7), new Color(0xF28E2B), new Color(0x59A14F), new Color(0xE15759)};

  static void chart(List<Row> rows, Path file, String title, String yLabel, boolean memory) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    List<BenchCase> cases = List.of(BenchCase.FULL, BenchCase.LORA_QV);
    for (BenchCase c : cases) {
      XYSeries retain = new XYSeries("retain " + c.title);
      XYSeries peer = new XYSeries("PyTorch " + c.title);
      XYSeries plan = new XYSeries("plan " + c.title);
      for (Row r : rows) {
        Bench.CaseRuns runs = r.report().runs.get(c);
        if (runs == null) {
          continue;
        }
        double x = r.params() / 1e6;
        double rv = memory ? runs.retainPeakRss() / (1 << 20) : runs.retainTokensPerSecond();
        double pv = memory ? runs.peerPeakRss() / (1 << 20) : runs.peerTokensPerSecond();
        if (Double.isFinite(rv)) {
          retain.add(x, rv);
        }
        if (Double.isFinite(pv)) {
          peer.add(x, pv);
        }
        MemoryPlan p = r.report().plan(c);
        if (memory && p != null) {
          plan.add(x, p.total() / (double) (1 << 20));
        }
      }
      data.addSeries(retain);
      if (peer.getItemCount() > 0) {
        data.addSeries(peer);
      }
      if (plan.getItemCount() > 0) {
        data.addSeries(plan);
      }
    }
    NumberAxis x = new NumberAxis("parameters (millions)");
    x.setAutoRangeIncludesZero(true);
    NumberAxis y = new NumberAxis(yLabel);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      String key = data.getSeriesKey(i).toString();
      int caseIndex = key.contains(BenchCase.FULL.title) ? 0 : 1;
      Color colour = key.startsWith("retain") ? COLOURS[caseIndex * 2] : COLOURS[caseIndex * 2 + 1];
      renderer.setSeriesPaint(i, key.startsWith("plan") ? colour.darker() : colour);
      if (key.startsWith("PyTorch") || key.startsWith("plan")) {
        renderer.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
            key.startsWith("plan") ? new float[] {2f, 4f} : new float[] {6f, 4f}, 0f));
      } else {
        renderer.setSeriesStroke(i, new BasicStroke(2.5f));
      }
    }
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(new Color(242, 244, 248));
    plot.setDomainGridlinePaint(new Color(205, 210, 218));
    plot.setRangeGridlinePaint(new Color(205, 210, 218));
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 560);
  }
}
