package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens report.html in a real browser (headless Chromium) and checks the screenshot shows the
 * charts. Skipped where /usr/bin/chromium is not installed. Set -Dretain.report.screenshot=FILE to
 * keep the screenshot for a look.
 */
class BrowserRenderTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final int WIDTH = 1200;
  private static final int HEIGHT = 2000;

  @Test
  void chromiumRendersTheChartsInReportHtml(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM), "chromium not installed; skipping the browser check");
    Path out = dir.resolve("report");
    ComparisonReport.write(Fixtures.comparison(), out);
    Path shot = dir.resolve("shot.png");
    Path profile = Files.createDirectory(dir.resolve("profile"));
    Path log = dir.resolve("chromium.log");
    Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-crash-reporter", "--hide-scrollbars", "--user-data-dir=" + profile, "--screenshot=" + shot,
        "--window-size=" + WIDTH + "," + HEIGHT, out.resolve("report.html").toUri().toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        fail("chromium did not finish within 60 s; log:\n" + Files.readString(log));
      }
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    assertTrue(Files.exists(shot), "no screenshot (exit " + p.exitValue() + "); log:\n" + Files.readString(log));
    String keep = System.getProperty("retain.report.screenshot");
    if (keep != null && !keep.isBlank()) {
      Files.copy(shot, Path.of(keep), StandardCopyOption.REPLACE_EXISTING);
    }
    byte[] bytes = Files.readAllBytes(shot);
    assertEquals(List.of(0x89, 0x50, 0x4E, 0x47), List.of(bytes[0] & 0xff, bytes[1] & 0xff, bytes[2] & 0xff, bytes[3] & 0xff), "not a PNG");
    BufferedImage img = ImageIO.read(shot.toFile());
    assertNotNull(img);
    assertEquals(WIDTH, img.getWidth());
    assertEquals(HEIGHT, img.getHeight());

    // Find the first chart by its plot background, a colour the page itself never uses.
    int top = -1, left = Integer.MAX_VALUE, right = -1;
    for (int y = 0; y < img.getHeight() && top < 0; y++) {
      int run = 0;
      for (int x = 0; x < img.getWidth(); x++) {
        run += isPlotBackground(img.getRGB(x, y)) ? 1 : 0;
      }
      if (run > 200) {
        top = y;
      }
    }
    assertTrue(top >= 0, "no chart in the screenshot: the embedded PNGs were not rendered");
    int bottom = Math.min(img.getHeight(), top + ComparisonReport.CHART_HEIGHT);
    for (int y = top; y < bottom; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if (isPlotBackground(img.getRGB(x, y))) {
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    int ink = 0, coloured = 0;
    for (int y = top; y < bottom; y++) {
      for (int x = left; x <= right; x++) {
        int rgb = img.getRGB(x, y);
        if (!isPlotBackground(rgb) && !isWhite(rgb)) {
          ink++;
        }
        Color c = new Color(rgb);
        int max = Math.max(c.getRed(), Math.max(c.getGreen(), c.getBlue()));
        int min = Math.min(c.getRed(), Math.min(c.getGreen(), c.getBlue()));
        if (max - min > 80) {
          coloured++;
        }
      }
    }
    assertTrue(right - left > 400, "chart area too narrow: " + left + ".." + right);
    assertTrue(ink > 2000, "chart area is blank: " + ink + " drawn pixels");
    assertTrue(coloured > 200, "no coloured data points in the chart area: " + coloured);
  }

  private static boolean isPlotBackground(int rgb) {
    Color c = new Color(rgb);
    Color bg = Charts.PLOT_BACKGROUND;
    return Math.abs(c.getRed() - bg.getRed()) <= 2 && Math.abs(c.getGreen() - bg.getGreen()) <= 2 && Math.abs(c.getBlue() - bg.getBlue()) <= 2;
  }

  private static boolean isWhite(int rgb) {
    Color c = new Color(rgb);
    return c.getRed() > 250 && c.getGreen() > 250 && c.getBlue() > 250;
  }
}
