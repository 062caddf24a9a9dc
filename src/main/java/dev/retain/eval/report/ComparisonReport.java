package dev.retain.eval.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.eval.Forgetting;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * The report of {@code retain compare}: one table with every method's domain gain next to its
 * general retention, per-suite scores, charts and the definitions of every number, written as
 * report.md, report.json and a self-contained report.html (charts embedded as PNG data URIs and
 * also written beside it). See the package documentation for the files and the JSON layout.
 */
public final class ComparisonReport {
  public static final String MARKDOWN = "report.md";
  public static final String JSON = "report.json";
  public static final String HTML = "report.html";
  public static final String PARETO_PNG = "pareto.png";
  public static final String CURVES_GENERAL_PNG = "curves-general.png";
  public static final String CURVES_DOMAIN_PNG = "curves-domain.png";
  public static final String CURVES_LOSS_PNG = "curves-loss.png";
  public static final String FISHER_PNG = "fisher.png";
  /** Every chart is drawn at this size in pixels. */
  public static final int CHART_WIDTH = 900;
  public static final int CHART_HEIGHT = 560;
  /** The "schema" value of report.json; bumped when a key changes meaning or goes away. */
  public static final String SCHEMA = "retain.compare/1";

  private ComparisonReport() {}

  /** One drawn chart: its file name beside the report, a title, a caption and the PNG bytes. */
  public record Chart(String file, String title, String caption, byte[] png) {}

  /**
   * Writes the charts, report.json, report.md and report.html into {@code dir} (created if needed),
   * each file atomically, and returns the paths written in that order. Charts that have no data this
   * time (no live curves, no Fisher) are not drawn, and an old file of that name is removed so the
   * folder never shows a chart from an earlier run.
   */
  public static List<Path> write(Comparison c, Path dir) throws IOException {
    List<Derived> derived = Derived.of(c);
    List<Chart> charts = charts(c, derived);
    List<Path> written = new ArrayList<>();
    for (Chart ch : charts) {
      Path p = dir.resolve(ch.file());
      AtomicFiles.writeBytes(p, ch.png());
      written.add(p);
    }
    for (String name : List.of(CURVES_GENERAL_PNG, CURVES_DOMAIN_PNG, CURVES_LOSS_PNG, FISHER_PNG)) {
      if (charts.stream().noneMatch(ch -> ch.file().equals(name))) {
        Files.deleteIfExists(dir.resolve(name));
      }
    }
    Path json = dir.resolve(JSON);
    AtomicFiles.writeString(json, json(c, derived));
    written.add(json);
    Path md = dir.resolve(MARKDOWN);
    AtomicFiles.writeString(md, markdown(c, derived, charts));
    written.add(md);
    Path html = dir.resolve(HTML);
    AtomicFiles.writeString(html, html(c, derived, charts));
    written.add(html);
    return written;
  }

  // ---------------------------------------------------------------- the method table

  private static final String[] HEADER = {"method", "domain [95% CI]", "general [95% CI]", "retention", "forgetting reduction",
      "domain gain", "general CE rise", "trainable params", "peak memory", "tokens/s", "wall time", "meets targets"};
  private static final boolean[] RIGHT = {false, true, true, true, true, true, true, true, true, true, true, false};

  /** The method table as an aligned Markdown table, for the terminal and report.md. */
  public static String markdownTable(Comparison c) {
    return markdownTable(c, Derived.of(c));
  }

  private static String markdownTable(Comparison c, List<Derived> derived) {
    return alignedMarkdown(HEADER, RIGHT, tableRows(c, derived));
  }

  /** A first row for the base model, then one per method. */
  private static List<String[]> tableRows(Comparison c, List<Derived> derived) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"base (before)", Fmt.score(c.baseDomain()), Fmt.score(c.baseGeneral()), "100%", "", "", "", "", "", "", "", ""});
    for (int i = 0; i < c.methods().size(); i++) {
      MethodResult m = c.methods().get(i);
      Derived d = derived.get(i);
      rows.add(new String[] {m.method(), Fmt.score(m.domain()), Fmt.score(m.general()), Fmt.pct(d.retention()),
          Fmt.pct(d.forgettingReduction()), Fmt.points(d.domainGain()), Fmt.signed(d.ceRise(), 3),
          Fmt.params(m.trainableParams(), m.totalParams()), Fmt.mib(m.peakRssBytes()), Fmt.rate(m.tokensPerSecond()),
          Fmt.duration(m.wallSeconds()), Fmt.check(d.meetsTargets())});
    }
    return rows;
  }

  private static String alignedMarkdown(String[] header, boolean[] right, List<String[]> rows) {
    int[] w = new int[header.length];
    for (int j = 0; j < header.length; j++) {
      w[j] = Math.max(3, Fmt.md(header[j]).length());
      for (String[] r : rows) {
        w[j] = Math.max(w[j], Fmt.md(r[j]).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, w, right);
    sb.append('|');
    for (int j = 0; j < header.length; j++) {
      sb.append(' ').append("-".repeat(w[j] - 1)).append(right[j] ? ':' : '-').append(" |");
    }
    sb.append('\n');
    for (String[] r : rows) {
      line(sb, r, w, right);
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, String[] cells, int[] w, boolean[] right) {
    sb.append('|');
    for (int j = 0; j < cells.length; j++) {
      String s = Fmt.md(cells[j]);
      String pad = " ".repeat(w[j] - s.length());
      sb.append(' ').append(right[j] ? pad + s : s + pad).append(" |");
    }
    sb.append('\n');
  }

  // ---------------------------------------------------------------- per-suite scores

  private static List<String> suiteNames(Comparison c) {
    Map<String, Boolean> names = new LinkedHashMap<>();
    c.baseSuites().forEach(s -> names.put(s.name(), true));
    c.methods().forEach(m -> m.suites().forEach(s -> names.put(s.name(), true)));
    return new ArrayList<>(names.keySet());
  }

  private static SuiteScore find(List<SuiteScore> suites, String name) {
    return suites.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
  }

  private static String[] suiteHeader(Comparison c) {
    List<String> h = new ArrayList<>(List.of("suite", "role", "base"));
    c.methods().forEach(m -> h.add(m.method()));
    return h.toArray(String[]::new);
  }

  private static List<String[]> suiteRows(Comparison c) {
    List<String[]> rows = new ArrayList<>();
    for (String name : suiteNames(c)) {
      List<String> r = new ArrayList<>();
      r.add(name);
      SuiteScore any = find(c.baseSuites(), name);
      for (MethodResult m : c.methods()) {
        any = any != null ? any : find(m.suites(), name);
      }
      r.add(any == null ? "" : any.role());
      r.add(Fmt.suite(find(c.baseSuites(), name)));
      c.methods().forEach(m -> r.add(Fmt.suite(find(m.suites(), name))));
      rows.add(r.toArray(String[]::new));
    }
    return rows;
  }

  // ---------------------------------------------------------------- words

  /** The paragraph at the top of the report: who wins, by which rule, and against what. */
  static String summary(Comparison c, List<Derived> derived) {
    StringBuilder sb = new StringBuilder();
    int n = c.methods().size();
    sb.append(Fmt.f("%d method%s fine-tuned %s", n, n == 1 ? "" : "s", c.baseModel().isEmpty() ? "the base model" : c.baseModel()));
    if (!c.data().isEmpty()) {
      sb.append(" on ").append(c.data());
    }
    sb.append(Fmt.f(", with preset %s and seed %d. ", c.preset().isEmpty() ? "?" : c.preset(), c.seed()));
    sb.append("The base model scores ").append(Fmt.pct(c.baseGeneral().value())).append(" on the general probes and ")
        .append(Fmt.pct(c.baseDomain().value())).append(" on the domain probes. ");
    Optional<Derived> best = Derived.best(derived);
    if (best.isEmpty()) {
      sb.append("No method has a measured general score, so none can be recommended. ");
    } else {
      Derived b = best.get();
      if (b.keepsGeneral() == Derived.Check.PASS) {
        sb.append("Best: ").append(b.method()).append(", the highest domain gain among the methods that keep at least 95% of the base")
            .append(" general score: it keeps ").append(Fmt.pct(b.retention())).append(" and gains ").append(Fmt.points(b.domainGain()))
            .append(" on the domain. ");
      } else {
        sb.append("No method keeps 95% of the base general score; the one that keeps the most is ").append(b.method())
            .append(" (").append(Fmt.pct(b.retention())).append(", domain gain ").append(Fmt.points(b.domainGain())).append("). ");
      }
    }
    Optional<Derived> naive = derived.stream().filter(d -> d.method().equals(Comparison.NAIVE)).findFirst();
    if (naive.isPresent()) {
      sb.append("Naive fine-tuning keeps ").append(Fmt.pct(naive.get().retention())).append(" and gains ")
          .append(Fmt.points(naive.get().domainGain())).append(". ");
      List<String> meeting = derived.stream().filter(d -> d.meetsTargets() == Derived.Check.PASS).map(Derived::method).toList();
      sb.append(meeting.isEmpty()
          ? "No method meets both targets (retention >= 95% and >= 80% of naive's domain gain)."
          : "Meeting both targets (retention >= 95% and >= 80% of naive's domain gain): " + String.join(", ", meeting) + ".");
    } else {
      sb.append("There is no naive run, so forgetting reduction and the domain target are not computed.");
    }
    List<String> front = derived.stream().filter(Derived::onParetoFront).map(Derived::method).toList();
    if (!front.isEmpty()) {
      sb.append(" On the Pareto front of domain gain against retention: ").append(String.join(", ", front)).append('.');
    }
    return sb.toString();
  }

  /** How each number is defined: (term, definition), shown in all three files. */
  static final List<String[]> DEFINITIONS = List.of(
      new String[] {"general score G", "accuracy over every item of the general exact-match and multiple-choice probe suites"
          + " together (pooled), 0..1; [low, high] is its 95% Wilson interval"},
      new String[] {"domain score D", "the same over the domain probe suites"},
      new String[] {"retention", "G_after / G_before (100% = nothing forgotten)"},
      new String[] {"drop", "G_before - G_after"},
      new String[] {"forgetting reduction", "1 - drop(method) / drop(naive): 100% = no forgetting, 0% = as much as naive fine-tuning,"
          + " negative = more; n/a without a naive run or when naive did not forget"},
      new String[] {"domain gain", "D_after - D_before, in points (x 100)"},
      new String[] {"general CE rise", "CE_after - CE_before: mean cross-entropy on held-out general text, nats per token"},
      new String[] {"trainable params", "parameters the optimizer updates, and their share of all parameters"},
      new String[] {"peak memory", "peak resident memory of the training process, MiB = 2^20 bytes"},
      new String[] {"tokens/s", "training tokens processed per second of training"},
      new String[] {"wall time", "wall-clock time of the whole run, live evaluation included"},
      new String[] {"meets targets", "retention >= 95% and domain gain >= 80% of naive's domain gain; n/a when either cannot be computed"},
      new String[] {"best method", Derived.BEST_RULE},
      new String[] {"Pareto front", "the methods that no other method beats on both domain gain and retention"});

  // ---------------------------------------------------------------- charts

  /** Draws the charts that have data: Pareto always; curves, train loss and Fisher when present. */
  public static List<Chart> charts(Comparison c, List<Derived> derived) {
    List<Chart> out = new ArrayList<>();
    out.add(new Chart(PARETO_PNG, "Domain gain against general retention",
        "Each point is a method; up and to the right is better. The dashed line joins the Pareto front; green guides mark"
            + " the targets (95% retention, 80% of naive's gain).",
        Charts.pareto(c, derived, CHART_WIDTH, CHART_HEIGHT)));
    double g0 = c.baseGeneral().value();
    if (hasCurve(c, CurvePoint::general)) {
      out.add(new Chart(CURVES_GENERAL_PNG, "General score during training",
          "Live retention: general probe accuracy at each evaluation step, per method.",
          Charts.curves(c, "General score during training (live retention)", "general score (%)", CurvePoint::general, 100,
              List.of(Charts.Guide.base(100 * g0, "base"), Charts.Guide.target(100 * Derived.MIN_RETENTION * g0, "95% of base")),
              CHART_WIDTH, CHART_HEIGHT)));
    }
    if (hasCurve(c, CurvePoint::domain)) {
      out.add(new Chart(CURVES_DOMAIN_PNG, "Domain score during training",
          "Learning: domain probe accuracy at each evaluation step, per method.",
          Charts.curves(c, "Domain score during training (learning)", "domain score (%)", CurvePoint::domain, 100,
              List.of(Charts.Guide.base(100 * c.baseDomain().value(), "base")), CHART_WIDTH, CHART_HEIGHT)));
    }
    if (hasCurve(c, CurvePoint::trainLoss)) {
      out.add(new Chart(CURVES_LOSS_PNG, "Training loss", "Training loss at each logged step, per method.",
          Charts.curves(c, "Training loss", "train loss (nats/token)", CurvePoint::trainLoss, 1, List.of(), CHART_WIDTH, CHART_HEIGHT)));
    }
    if (c.methods().stream().anyMatch(m -> !m.fisherPerLayer().isEmpty())) {
      out.add(new Chart(FISHER_PNG, "Fisher mass per layer",
          "Summed diagonal Fisher information of each layer's parameters on general data: where EWC holds weights hardest.",
          Charts.fisher(c, CHART_WIDTH, CHART_HEIGHT)));
    }
    return out;
  }

  private static boolean hasCurve(Comparison c, ToDoubleFunction<CurvePoint> v) {
    return c.methods().stream().flatMap(m -> m.curve().stream()).anyMatch(p -> Double.isFinite(v.applyAsDouble(p)));
  }

  // ---------------------------------------------------------------- report.md

  private static String title(Comparison c) {
    return "retain compare: " + (c.baseModel().isEmpty() ? "methods" : c.baseModel());
  }

  private static String runLine(Comparison c) {
    List<String> parts = new ArrayList<>();
    if (!c.date().isEmpty()) {
      parts.add(c.date());
    }
    parts.add("preset " + (c.preset().isEmpty() ? "?" : c.preset()));
    parts.add("seed " + c.seed());
    if (!c.data().isEmpty()) {
      parts.add("data: " + c.data());
    }
    if (c.machine().cores() > 0) {
      parts.add(c.machine().cores() + " cores");
    }
    if (!c.machine().jvm().isEmpty()) {
      parts.add(c.machine().jvm());
    }
    return String.join(" · ", parts);
  }

  static String markdown(Comparison c, List<Derived> derived, List<Chart> charts) {
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(title(c)).append("\n\n");
    sb.append(runLine(c)).append("\n\n");
    sb.append(summary(c, derived)).append("\n\n");
    sb.append("## Methods\n\n");
    sb.append(markdownTable(c, derived)).append('\n');
    for (MethodResult m : c.methods()) {
      sb.append("- **").append(Fmt.md(m.method())).append("**: ").append(m.description().isEmpty() ? "(no description)" : m.description())
          .append('\n');
    }
    List<String[]> suites = suiteRows(c);
    if (!suites.isEmpty()) {
      String[] h = suiteHeader(c);
      boolean[] right = new boolean[h.length];
      for (int j = 2; j < right.length; j++) {
        right[j] = true;
      }
      sb.append("\n## Per-suite scores\n\n");
      sb.append("Accuracy in percent; text suites show cross-entropy (nats per token, lower is better).\n\n");
      sb.append(alignedMarkdown(h, right, suites));
    }
    sb.append("\n## Charts\n\n");
    for (Chart ch : charts) {
      sb.append("![").append(ch.title()).append("](").append(ch.file()).append(")\n\n").append(ch.caption()).append("\n\n");
    }
    sb.append("## How each number is defined\n\n");
    for (String[] d : DEFINITIONS) {
      sb.append("- **").append(d[0]).append("**: ").append(d[1]).append('\n');
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- report.json

  static String json(Comparison c, List<Derived> derived) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("schema", SCHEMA);
    root.put("title", title(c));
    root.put("date", c.date());
    root.put("preset", c.preset());
    root.put("seed", c.seed());
    root.put("data", c.data());
    ObjectNode machine = root.putObject("machine");
    machine.put("cores", c.machine().cores());
    machine.put("jvm", c.machine().jvm());
    ObjectNode base = root.putObject("base");
    base.put("model", c.baseModel());
    score(base.putObject("general"), c.baseGeneral());
    score(base.putObject("domain"), c.baseDomain());
    num(base, "general_ce", c.baseGeneralCe());
    suites(base.putArray("suites"), c.baseSuites());
    ObjectNode targets = root.putObject("targets");
    targets.put("min_retention", Derived.MIN_RETENTION);
    targets.put("min_share_of_naive_domain_gain", Derived.MIN_SHARE_OF_NAIVE_GAIN);
    targets.put("naive_method", Comparison.NAIVE);
    num(targets, "naive_domain_gain", c.naive().map(n -> Forgetting.domainGain(c.baseDomain().value(), n.domain().value())).orElse(Double.NaN));
    ObjectNode best = root.putObject("best");
    Optional<Derived> b = Derived.best(derived);
    if (b.isPresent()) {
      best.put("method", b.get().method());
    } else {
      best.putNull("method");
    }
    best.put("rule", Derived.BEST_RULE);
    root.put("summary", summary(c, derived));
    ArrayNode methods = root.putArray("methods");
    for (int i = 0; i < c.methods().size(); i++) {
      MethodResult m = c.methods().get(i);
      Derived d = derived.get(i);
      ObjectNode o = methods.addObject();
      o.put("method", m.method());
      o.put("description", m.description());
      score(o.putObject("general"), m.general());
      score(o.putObject("domain"), m.domain());
      num(o, "general_ce", m.generalCe());
      o.put("trainable_params", m.trainableParams());
      o.put("total_params", m.totalParams());
      o.put("peak_rss_bytes", m.peakRssBytes());
      num(o, "tokens_per_second", m.tokensPerSecond());
      num(o, "wall_seconds", m.wallSeconds());
      ObjectNode dn = o.putObject("derived");
      num(dn, "retention", d.retention());
      num(dn, "drop", d.drop());
      num(dn, "forgetting_reduction", d.forgettingReduction());
      num(dn, "domain_gain", d.domainGain());
      num(dn, "share_of_naive_domain_gain", d.shareOfNaiveGain());
      num(dn, "general_ce_rise", d.ceRise());
      num(dn, "trainable_share", d.trainableShare());
      bool(dn, "keeps_general", d.keepsGeneral());
      bool(dn, "reaches_domain", d.reachesDomain());
      bool(dn, "meets_targets", d.meetsTargets());
      dn.put("on_pareto_front", d.onParetoFront());
      suites(o.putArray("suites"), m.suites());
      ArrayNode curve = o.putArray("curve");
      for (CurvePoint p : m.curve()) {
        ObjectNode pn = curve.addObject();
        pn.put("step", p.step());
        num(pn, "general", p.general());
        num(pn, "domain", p.domain());
        num(pn, "train_loss", p.trainLoss());
      }
      ArrayNode fisher = o.putArray("fisher_per_layer");
      m.fisherPerLayer().forEach((layer, mass) -> {
        ObjectNode fn = fisher.addObject();
        fn.put("layer", layer);
        num(fn, "mass", mass);
      });
    }
    ArrayNode front = root.putArray("pareto_front");
    derived.stream().filter(Derived::onParetoFront).forEach(d -> front.add(d.method()));
    ObjectNode defs = root.putObject("definitions");
    DEFINITIONS.forEach(d -> defs.put(d[0], d[1]));
    try {
      return Json.PRETTY.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void score(ObjectNode n, Score s) {
    num(n, "score", s.value());
    num(n, "ci_low", s.low());
    num(n, "ci_high", s.high());
  }

  private static void suites(ArrayNode a, List<SuiteScore> suites) {
    for (SuiteScore s : suites) {
      ObjectNode n = a.addObject();
      n.put("name", s.name());
      n.put("role", s.role());
      n.put("kind", s.kind());
      num(n, "score", s.score());
    }
  }

  /** Numbers that were not measured (NaN, infinite) are written as null, never as a bare NaN. */
  private static void num(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) {
      n.put(key, v);
    } else {
      n.putNull(key);
    }
  }

  private static void bool(ObjectNode n, String key, Derived.Check c) {
    Boolean b = c.asBoolean();
    if (b == null) {
      n.putNull(key);
    } else {
      n.put(key, b);
    }
  }

  // ---------------------------------------------------------------- report.html

  private static final String CSS = """
      body{margin:0;background:#fff;color:#1e1e1e;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
      main{max-width:1160px;margin:0 auto;padding:24px 20px 48px}
      h1{font-size:26px;margin:0 0 4px}
      h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
      .run{color:#666;font-size:13px;margin:0 0 16px}
      .summary{background:#f7f7f7;border-left:4px solid #4e79a7;padding:10px 14px;margin:0 0 8px}
      .scroll{overflow-x:auto}
      table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;white-space:nowrap}
      th,td{padding:5px 7px;border-bottom:1px solid #e4e4e4;text-align:left}
      th{background:#ececec;font-weight:600;white-space:normal;vertical-align:bottom}
      .sub{color:#777;font-size:11.5px}
      td.n,th.n{text-align:right}
      tr.base td{color:#555;font-style:italic}
      tr.best td{background:#fff8dc;font-weight:600}
      .yes{color:#1f7a3f;font-weight:600}.no{color:#b3261e}.na{color:#888}
      .swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:baseline}
      figure{margin:18px 0 26px}
      figure img{display:block;max-width:100%;height:auto;border:1px solid #e4e4e4}
      figcaption{color:#555;font-size:13px;margin-top:6px}
      dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;font-size:14px}
      dt{font-weight:600}dd{margin:0}
      ul.methods{font-size:14px;padding-left:20px}
      """;

  static String html(Comparison c, List<Derived> derived, List<Chart> charts) {
    String bestMethod = Derived.best(derived).map(Derived::method).orElse(null);
    StringBuilder sb = new StringBuilder();
    sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>").append(Fmt.html(title(c))).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<main>\n");
    sb.append("<h1>").append(Fmt.html(title(c))).append("</h1>\n");
    sb.append("<p class=\"run\">").append(Fmt.html(runLine(c))).append("</p>\n");
    sb.append("<p class=\"summary\">").append(Fmt.html(summary(c, derived))).append("</p>\n");

    sb.append("<h2>Methods</h2>\n<div class=\"scroll\"><table>\n<thead><tr>");
    for (int j = 0; j < HEADER.length; j++) {
      sb.append(RIGHT[j] ? "<th class=\"n\">" : "<th>").append(Fmt.html(HEADER[j])).append("</th>");
    }
    sb.append("</tr></thead>\n<tbody>\n");
    List<String[]> rows = tableRows(c, derived);
    for (int i = 0; i < rows.size(); i++) {
      String[] r = rows.get(i);
      String cls = i == 0 ? "base" : r[0].equals(bestMethod) ? "best" : "";
      sb.append(cls.isEmpty() ? "<tr>" : "<tr class=\"" + cls + "\">");
      for (int j = 0; j < r.length; j++) {
        // Intervals and shares in small grey type after the number they qualify.
        String cell = Fmt.html(r[j]);
        if (j > 0) {
          cell = cell.replaceFirst("^(\\S+) (\\[.*\\]|\\(.*\\))$", "$1 <span class=\"sub\">$2</span>");
        }
        if (j == 0 && i > 0) {
          cell = "<span class=\"swatch\" style=\"background:" + hex(Charts.colour(i - 1)) + "\"></span>" + cell;
        }
        if (j == r.length - 1 && i > 0) {
          String k = r[j].equals("yes") ? "yes" : r[j].equals("no") ? "no" : "na";
          cell = "<span class=\"" + k + "\">" + cell + "</span>";
        }
        sb.append(RIGHT[j] ? "<td class=\"n\">" : "<td>").append(cell).append("</td>");
      }
      sb.append("</tr>\n");
    }
    sb.append("</tbody>\n</table></div>\n<ul class=\"methods\">\n");
    for (MethodResult m : c.methods()) {
      sb.append("<li><b>").append(Fmt.html(m.method())).append("</b>: ")
          .append(Fmt.html(m.description().isEmpty() ? "(no description)" : m.description())).append("</li>\n");
    }
    sb.append("</ul>\n");

    sb.append("<h2>Charts</h2>\n");
    for (Chart ch : charts) {
      sb.append("<figure id=\"").append(ch.file().replace(".png", "")).append("\"><img src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(ch.png())).append("\" width=\"").append(CHART_WIDTH).append("\" height=\"")
          .append(CHART_HEIGHT).append("\" alt=\"").append(Fmt.html(ch.title())).append("\">\n<figcaption>")
          .append(Fmt.html(ch.caption())).append("</figcaption></figure>\n");
    }
    if (charts.stream().noneMatch(ch -> ch.file().equals(CURVES_GENERAL_PNG) || ch.file().equals(CURVES_DOMAIN_PNG))) {
      sb.append("<p class=\"run\">No live evaluations were recorded during training, so there are no learning curves.</p>\n");
    }

    List<String[]> suites = suiteRows(c);
    if (!suites.isEmpty()) {
      String[] h = suiteHeader(c);
      sb.append("<h2>Per-suite scores</h2>\n<p class=\"run\">Accuracy in percent; text suites show cross-entropy")
          .append(" (nats per token, lower is better).</p>\n<div class=\"scroll\"><table>\n<thead><tr>");
      for (int j = 0; j < h.length; j++) {
        sb.append(j >= 2 ? "<th class=\"n\">" : "<th>").append(Fmt.html(h[j])).append("</th>");
      }
      sb.append("</tr></thead>\n<tbody>\n");
      for (String[] r : suites) {
        sb.append("<tr>");
        for (int j = 0; j < r.length; j++) {
          sb.append(j >= 2 ? "<td class=\"n\">" : "<td>").append(Fmt.html(r[j])).append("</td>");
        }
        sb.append("</tr>\n");
      }
      sb.append("</tbody>\n</table></div>\n");
    }

    sb.append("<h2>How each number is defined</h2>\n<dl>\n");
    for (String[] d : DEFINITIONS) {
      sb.append("<dt>").append(Fmt.html(d[0])).append("</dt><dd>").append(Fmt.html(d[1])).append("</dd>\n");
    }
    sb.append("</dl>\n</main>\n</body>\n</html>\n");
    return sb.toString();
  }

  private static String hex(java.awt.Paint p) {
    java.awt.Color c = (java.awt.Color) p;
    return Fmt.f("#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
  }
}
