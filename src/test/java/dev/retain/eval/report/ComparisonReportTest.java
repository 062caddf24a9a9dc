package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonReportTest {
  private static final double TOL = 1e-12;

  @Test
  void writesAllFilesAndReturnsTheirPaths(@TempDir Path dir) throws Exception {
    List<Path> written = ComparisonReport.write(Fixtures.comparison(), dir.resolve("out"));
    List<String> names = written.stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("pareto.png", "curves-general.png", "curves-domain.png", "curves-loss.png", "fisher.png",
        "report.json", "report.md", "report.html"), names);
    for (Path p : written) {
      assertTrue(Files.size(p) > 0, p + " is empty");
    }
    // Only our files: no temporaries left behind.
    try (var s = Files.list(dir.resolve("out"))) {
      assertEquals(names.size(), s.count());
    }
  }

  @Test
  void jsonHasInputsAndDerivedValuesInAFixedOrder(@TempDir Path dir) throws Exception {
    ComparisonReport.write(Fixtures.comparison(), dir);
    JsonNode root = new ObjectMapper().readTree(Files.readString(dir.resolve("report.json")));
    assertEquals(List.of("schema", "title", "date", "preset", "seed", "data", "machine", "base", "targets", "best", "summary",
        "methods", "pareto_front", "definitions"), fieldNames(root));
    assertEquals(ComparisonReport.SCHEMA, root.get("schema").asText());
    assertEquals(Fixtures.DATE, root.get("date").asText());
    assertEquals(0.80, root.at("/base/general/score").asDouble(), TOL);
    assertEquals(0.75, root.at("/base/general/ci_low").asDouble(), TOL);
    assertEquals(0.40, root.at("/targets/naive_domain_gain").asDouble(), TOL);
    assertEquals("replay", root.at("/best/method").asText());

    JsonNode methods = root.get("methods");
    assertEquals(5, methods.size());
    JsonNode replay = methods.get(1);
    assertEquals("replay", replay.get("method").asText());
    assertEquals(List.of("method", "description", "general", "domain", "general_ce", "trainable_params", "total_params",
        "peak_rss_bytes", "tokens_per_second", "wall_seconds", "derived", "suites", "curve", "fisher_per_layer"), fieldNames(replay));
    assertEquals(0.975, replay.at("/derived/retention").asDouble(), TOL);
    assertEquals(0.90, replay.at("/derived/forgetting_reduction").asDouble(), TOL);
    assertEquals(0.36, replay.at("/derived/domain_gain").asDouble(), TOL);
    assertEquals(0.05, replay.at("/derived/general_ce_rise").asDouble(), TOL);
    assertTrue(replay.at("/derived/meets_targets").asBoolean());
    assertTrue(replay.at("/derived/on_pareto_front").asBoolean());
    assertEquals(9, replay.get("curve").size());
    assertEquals(4, replay.get("suites").size());

    JsonNode naive = methods.get(0);
    assertEquals(0.0, naive.at("/derived/forgetting_reduction").asDouble(), TOL);
    assertFalse(naive.at("/derived/meets_targets").asBoolean());
    JsonNode lora = methods.get(3);
    assertTrue(lora.at("/derived/keeps_general").asBoolean());
    assertFalse(lora.at("/derived/reaches_domain").asBoolean());
    assertEquals(294_912, lora.get("trainable_params").asLong());
    JsonNode ewc = methods.get(2);
    assertEquals(6, ewc.get("fisher_per_layer").size());
    assertEquals(10.0, ewc.at("/fisher_per_layer/0/mass").asDouble(), TOL);

    List<String> front = new ArrayList<>();
    root.get("pareto_front").forEach(n -> front.add(n.asText()));
    assertEquals(List.of("naive", "replay", "all"), front);
    assertTrue(root.at("/definitions/forgetting reduction").asText().contains("1 - drop(method) / drop(naive)"));
  }

  @Test
  void notMeasuredNumbersAreNullInJson(@TempDir Path dir) throws Exception {
    MethodResult blank = MethodResult.builder("replay").general(Score.point(0.78)).build();
    Comparison c = new Comparison("m", Score.point(0.80), Score.missing(), Double.NaN, null, "quick", 7, "", List.of(blank), null, "");
    ComparisonReport.write(c, dir);
    String text = Files.readString(dir.resolve("report.json"));
    assertFalse(text.contains("NaN"), "NaN must not reach JSON");
    JsonNode m = new ObjectMapper().readTree(text).get("methods").get(0);
    assertTrue(m.at("/general/ci_low").isNull());
    assertTrue(m.at("/derived/domain_gain").isNull());
    assertTrue(m.at("/derived/forgetting_reduction").isNull());
    assertTrue(m.at("/derived/meets_targets").isNull());
    assertEquals(0.975, m.at("/derived/retention").asDouble(), TOL);
  }

  @Test
  void markdownHasSummaryARowPerMethodAndDefinitions(@TempDir Path dir) throws Exception {
    Comparison c = Fixtures.comparison();
    ComparisonReport.write(c, dir);
    String md = Files.readString(dir.resolve("report.md"));
    assertTrue(md.startsWith("# retain compare: tiny-llama-6.8M\n"), md);
    assertTrue(md.contains("Best: replay"), md);
    List<String> lines = md.lines().toList();
    for (MethodResult m : c.methods()) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("| " + m.method() + " ")), "no row for " + m.method());
    }
    String replayRow = lines.stream().filter(l -> l.startsWith("| replay ")).findFirst().orElseThrow();
    for (String cell : List.of("78.0% [73.0, 83.0]", "66.0% [61.0, 71.0]", "97.5%", "90.0%", "+36.0 pts", "+0.050", "6.8M (100%)",
        "512 MiB", "1,500", "3m 12s", "yes")) {
      assertTrue(replayRow.contains(cell), cell + " missing from " + replayRow);
    }
    String loraRow = lines.stream().filter(l -> l.startsWith("| lora ")).findFirst().orElseThrow();
    assertTrue(loraRow.contains("294.9K (4.16%)"), loraRow);
    assertTrue(md.contains("## Per-suite scores"));
    assertTrue(md.contains("| cardio "));
    assertTrue(md.contains("CE 2.500"), "text suites show cross-entropy");
    assertTrue(md.contains("![Domain gain against general retention](pareto.png)"));
    assertTrue(md.contains("1 - drop(method) / drop(naive)"));
    assertTrue(md.contains("G_after / G_before"));
    assertTrue(md.contains("D_after - D_before"));
  }

  @Test
  void terminalTableIsAligned() {
    String table = ComparisonReport.markdownTable(Fixtures.comparison());
    List<String> lines = table.lines().toList();
    assertEquals(2 + 1 + 5, lines.size(), table);  // header, rule, base, five methods
    int width = lines.get(0).length();
    assertTrue(lines.stream().allMatch(l -> l.length() == width), table);
    assertTrue(lines.get(2).startsWith("| base (before) "));
  }

  @Test
  void htmlIsSelfContainedAndEveryEmbeddedPngDecodes(@TempDir Path dir) throws Exception {
    List<Path> written = ComparisonReport.write(Fixtures.comparison(), dir);
    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.startsWith("<!DOCTYPE html>"));
    for (String external : List.of("http://", "https://", "<script", "<link", "@import", "url(")) {
      assertFalse(html.contains(external), "report.html must not load anything: found " + external);
    }
    Matcher m = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    List<byte[]> pngs = new ArrayList<>();
    while (m.find()) {
      pngs.add(Base64.getDecoder().decode(m.group(1)));
    }
    List<Path> files = written.stream().filter(p -> p.toString().endsWith(".png")).toList();
    assertEquals(5, pngs.size());
    assertEquals(files.size(), pngs.size());
    for (int i = 0; i < pngs.size(); i++) {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(pngs.get(i)));
      assertNotNull(img, "embedded image " + i + " does not decode");
      assertEquals(ComparisonReport.CHART_WIDTH, img.getWidth());
      assertEquals(ComparisonReport.CHART_HEIGHT, img.getHeight());
      assertTrue(colours(img) > 20, "chart " + files.get(i) + " looks blank");
      // The file beside the page holds the same picture.
      assertArrayEquals(Files.readAllBytes(files.get(i)), pngs.get(i), files.get(i).toString());
    }
    for (MethodResult r : Fixtures.comparison().methods()) {
      assertTrue(html.contains(">" + r.method() + "</td>"), "no row for " + r.method());
    }
    assertTrue(html.contains("<tr class=\"best\">"));
  }

  @Test
  void chartsWithoutDataAreNotDrawnAndStaleOnesRemoved(@TempDir Path dir) throws Exception {
    ComparisonReport.write(Fixtures.comparison(), dir);
    assertTrue(Files.exists(dir.resolve("fisher.png")));
    List<MethodResult> plain = Fixtures.comparison().methods().stream()
        .map(r -> new MethodResult(r.method(), r.description(), r.general(), r.domain(), r.generalCe(), r.trainableParams(),
            r.totalParams(), r.peakRssBytes(), r.tokensPerSecond(), r.wallSeconds(), r.suites(), null, null))
        .toList();
    Comparison f = Fixtures.comparison();
    Comparison c = new Comparison(f.baseModel(), f.baseGeneral(), f.baseDomain(), f.baseGeneralCe(), f.baseSuites(), f.preset(),
        f.seed(), f.data(), plain, f.machine(), f.date());
    List<Path> written = ComparisonReport.write(c, dir);
    assertEquals(List.of("pareto.png", "report.json", "report.md", "report.html"),
        written.stream().map(p -> p.getFileName().toString()).toList());
    for (String gone : List.of("fisher.png", "curves-general.png", "curves-domain.png", "curves-loss.png")) {
      assertFalse(Files.exists(dir.resolve(gone)), gone + " is left from the earlier run");
    }
    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.contains("no learning curves"));
  }

  @Test
  void outputIsDeterministic(@TempDir Path dir) throws Exception {
    ComparisonReport.write(Fixtures.comparison(), dir.resolve("a"));
    ComparisonReport.write(Fixtures.comparison(), dir.resolve("b"));
    for (String f : List.of("report.md", "report.json", "report.html", "pareto.png")) {
      assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
    }
  }

  @Test
  void namesAreEscapedInHtmlAndMarkdown(@TempDir Path dir) throws Exception {
    MethodResult odd = MethodResult.builder("naive").description("<b>bold</b> | pipe & more").general(Score.point(0.7))
        .domain(Score.point(0.5)).build();
    MethodResult weird = MethodResult.builder("a|b<c>").general(Score.point(0.79)).domain(Score.point(0.45)).build();
    Comparison c = new Comparison("m<x>", Score.point(0.8), Score.point(0.3), 2, null, "quick", 1, "", List.of(odd, weird), null, "");
    ComparisonReport.write(c, dir);
    String html = Files.readString(dir.resolve("report.html"));
    assertFalse(html.contains("<b>bold</b>"));
    assertTrue(html.contains("&lt;b&gt;bold&lt;/b&gt; | pipe &amp; more"));
    assertTrue(html.contains("a|b&lt;c&gt;"));
    String table = ComparisonReport.markdownTable(c);
    assertTrue(table.contains("| a\\|b<c> "), table);
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  /** Number of distinct colours, capped: a blank image has one or two. */
  private static int colours(BufferedImage img) {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 3) {
      for (int x = 0; x < img.getWidth(); x += 3) {
        seen.add(img.getRGB(x, y));
        if (seen.size() > 100) {
          return seen.size();
        }
      }
    }
    return seen.size();
  }
}
