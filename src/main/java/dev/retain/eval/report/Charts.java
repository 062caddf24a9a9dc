package dev.retain.eval.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, drawn with JFreeChart off screen and encoded as PNG. Each method keeps one
 * colour across all charts. Scores are drawn in percent and gains in points (x 100).
 */
final class Charts {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Plot-area background; distinct from the page's white so that a screenshot can find a chart. */
  static final Color PLOT_BACKGROUND = new Color(242, 244, 248);
  private static final Color GRID = new Color(205, 210, 218);
  private static final Color GUIDE = new Color(120, 120, 120);
  private static final Color TARGET = new Color(46, 139, 87);
  private static final Color FRONT = new Color(60, 60, 60);
  /** Tableau 10: readable, distinguishable, and kind to colour-blind readers. */
  private static final Color[] PALETTE = {
      new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
      new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC)};
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
  private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

  private Charts() {}

  /** A horizontal guide line on a curves chart. */
  record Guide(double value, String label, Color colour) {
    static Guide base(double value, String label) {
      return new Guide(value, label, GUIDE);
    }

    static Guide target(double value, String label) {
      return new Guide(value, label, TARGET);
    }
  }

  static Paint colour(int methodIndex) {
    return PALETTE[methodIndex % PALETTE.length];
  }

  /**
   * Domain gain (x, points) against general retention (y, %), one labelled point per method, the
   * Pareto front as a line, and guide lines at 100% (base), 95% retention and 80% of naive's gain.
   */
  static byte[] pareto(Comparison c, List<Derived> derived, int width, int height) {
    XYSeriesCollection data = new XYSeriesCollection();
    List<String> labels = new ArrayList<>();
    double minX = 0, maxX = 0, minY = 100 * Derived.MIN_RETENTION, maxY = 100;
    for (Derived d : derived) {
      XYSeries s = new XYSeries(d.method(), false, true);
      if (Double.isFinite(d.domainGain()) && Double.isFinite(d.retention())) {
        double x = 100 * d.domainGain(), y = 100 * d.retention();
        s.add(x, y);
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
      data.addSeries(s);
      labels.add(d.method());
    }
    List<Pareto.Point> points = derived.stream().map(d -> new Pareto.Point(d.method(), d.domainGain(), d.retention())).toList();
    XYSeries front = new XYSeries("Pareto front", false, true);
    for (Pareto.Point p : Pareto.front(points)) {
      front.add(100 * p.x(), 100 * p.y());
    }
    int frontIndex = data.getSeriesCount();
    data.addSeries(front);

    double naiveGain = c.naive().map(n -> 100 * (n.domain().value() - c.baseDomain().value())).orElse(Double.NaN);
    double targetGain = naiveGain > 0 ? Derived.MIN_SHARE_OF_NAIVE_GAIN * naiveGain : Double.NaN;
    if (Double.isFinite(targetGain)) {
      maxX = Math.max(maxX, targetGain);
    }

    NumberAxis x = axis("domain gain (points: D_after - D_before, x 100)");
    NumberAxis y = axis("general retention (% of base general score)");
    double padX = Math.max(2, 0.08 * (maxX - minX)), padY = Math.max(1.5, 0.08 * (maxY - minY));
    x.setRange(minX - padX, maxX + padX);
    y.setRange(minY - padY, maxY + padY);

    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
    for (int i = 0; i < labels.size(); i++) {
      r.setSeriesPaint(i, colour(i));
      r.setSeriesShape(i, new Ellipse2D.Double(-6, -6, 12, 12));
    }
    r.setDefaultItemLabelGenerator((ds, series, item) -> series < labels.size() ? labels.get(series) : null);
    r.setDefaultItemLabelsVisible(true);
    r.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
    r.setDefaultItemLabelPaint(Color.DARK_GRAY);
    r.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
    r.setSeriesItemLabelsVisible(frontIndex, false);
    r.setSeriesLinesVisible(frontIndex, true);
    r.setSeriesShapesVisible(frontIndex, false);
    r.setSeriesPaint(frontIndex, FRONT);
    r.setSeriesStroke(frontIndex, new BasicStroke(1.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 5f}, 0f));

    XYPlot plot = new XYPlot(data, x, y, r);
    style(plot);
    plot.addRangeMarker(marker(100, "base (100%)", GUIDE, false));
    plot.addRangeMarker(marker(100 * Derived.MIN_RETENTION, "target: 95% retention", TARGET, false));
    if (Double.isFinite(targetGain)) {
      plot.addDomainMarker(marker(targetGain, "target: 80% of naive gain", TARGET, true));
    }
    plot.addDomainMarker(marker(0, "", GUIDE, true));
    return png(chart("Learning vs forgetting: domain gain against general retention", plot), width, height);
  }

  /** One series per method over training steps; {@code guides} are horizontal lines (value, label). */
  static byte[] curves(Comparison c, String title, String yLabel, ToDoubleFunction<CurvePoint> value, double scale,
                       List<Guide> guides, int width, int height) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (MethodResult m : c.methods()) {
      XYSeries s = new XYSeries(m.method(), true, true);
      for (CurvePoint p : m.curve()) {
        double v = value.applyAsDouble(p);
        if (Double.isFinite(v)) {
          s.add(p.step(), scale * v);
        }
      }
      data.addSeries(s);
    }
    NumberAxis x = axis("training step");
    x.setAutoRangeIncludesZero(true);
    NumberAxis y = axis(yLabel);
    y.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < c.methods().size(); i++) {
      r.setSeriesPaint(i, colour(i));
      r.setSeriesStroke(i, new BasicStroke(2f));
      r.setSeriesShape(i, new Ellipse2D.Double(-3, -3, 6, 6));
    }
    XYPlot plot = new XYPlot(data, x, y, r);
    style(plot);
    for (Guide g : guides) {
      if (Double.isFinite(g.value())) {
        plot.addRangeMarker(marker(g.value(), g.label(), g.colour(), false, true));
      }
    }
    includeGuides(plot, y, guides);
    return png(chart(title, plot), width, height);
  }

  /** Keeps the guide lines in view even when every curve lies above or below them. */
  private static void includeGuides(XYPlot plot, NumberAxis y, List<Guide> guides) {
    org.jfree.data.Range range = plot.getDataRange(y);
    if (range == null) {
      return;
    }
    double lo = range.getLowerBound(), hi = range.getUpperBound();
    for (Guide g : guides) {
      if (Double.isFinite(g.value())) {
        lo = Math.min(lo, g.value());
        hi = Math.max(hi, g.value());
      }
    }
    double pad = Math.max(0.5, 0.06 * (hi - lo));
    y.setRange(lo - pad, hi + pad);
  }

  /** Summed Fisher per layer, one bar series per method that has it. */
  static byte[] fisher(Comparison c, int width, int height) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    Set<Integer> layers = new TreeSet<>();
    c.methods().forEach(m -> layers.addAll(m.fisherPerLayer().keySet()));
    List<Integer> colourOf = new ArrayList<>();
    for (int i = 0; i < c.methods().size(); i++) {
      MethodResult m = c.methods().get(i);
      if (m.fisherPerLayer().isEmpty()) {
        continue;
      }
      colourOf.add(i);
      for (int layer : layers) {
        Double v = m.fisherPerLayer().get(layer);
        data.addValue(v == null || !Double.isFinite(v) ? null : v, m.method(), Integer.valueOf(layer));
      }
    }
    CategoryAxis x = new CategoryAxis("layer");
    x.setLabelFont(LABEL);
    x.setTickLabelFont(TICK);
    NumberAxis y = axis("Fisher mass (sum of diagonal Fisher over the layer's parameters)");
    BarRenderer r = new BarRenderer();
    r.setBarPainter(new StandardBarPainter());
    r.setShadowVisible(false);
    r.setItemMargin(0.05);
    for (int s = 0; s < colourOf.size(); s++) {
      r.setSeriesPaint(s, colour(colourOf.get(s)));
    }
    CategoryPlot plot = new CategoryPlot(data, x, y, r);
    plot.setOrientation(PlotOrientation.VERTICAL);
    plot.setBackgroundPaint(PLOT_BACKGROUND);
    plot.setRangeGridlinePaint(GRID);
    plot.setOutlineVisible(false);
    return png(chart("Where the base model's knowledge sits: Fisher mass per layer", plot), width, height);
  }

  private static NumberAxis axis(String label) {
    NumberAxis a = new NumberAxis(label);
    a.setLabelFont(LABEL);
    a.setTickLabelFont(TICK);
    return a;
  }

  private static void style(XYPlot plot) {
    plot.setBackgroundPaint(PLOT_BACKGROUND);
    plot.setDomainGridlinePaint(GRID);
    plot.setRangeGridlinePaint(GRID);
    plot.setOutlineVisible(false);
    plot.setAxisOffset(new RectangleInsets(4, 4, 4, 4));
  }

  private static ValueMarker marker(double value, String label, Color colour, boolean vertical) {
    return marker(value, label, colour, vertical, false);
  }

  /**
   * A dashed guide line. Vertical lines carry their label at the top, right of the line;
   * horizontal ones below the line at the left, or above it at the right ({@code labelRight}).
   */
  private static ValueMarker marker(double value, String label, Color colour, boolean vertical, boolean labelRight) {
    ValueMarker m = new ValueMarker(value);
    m.setPaint(colour);
    m.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
    if (!label.isEmpty()) {
      m.setLabel(label);
      m.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      m.setLabelPaint(colour.darker());
      m.setLabelBackgroundColor(new Color(PLOT_BACKGROUND.getRed(), PLOT_BACKGROUND.getGreen(), PLOT_BACKGROUND.getBlue(), 215));
      if (vertical) {
        m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
      } else if (labelRight) {
        m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
      } else {
        m.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
        m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
      }
      m.setLabelOffset(new RectangleInsets(3, 6, 3, 6));
    }
    return m;
  }

  private static JFreeChart chart(String title, org.jfree.chart.plot.Plot plot) {
    JFreeChart chart = new JFreeChart(title, TITLE, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setAntiAlias(true);
    chart.setTextAntiAlias(true);
    TextTitle t = chart.getTitle();
    t.setPaint(new Color(30, 30, 30));
    t.setPadding(new RectangleInsets(8, 8, 6, 8));
    LegendTitle legend = chart.getLegend();
    if (legend != null) {
      legend.setPosition(RectangleEdge.BOTTOM);
      legend.setItemFont(LABEL);
      legend.setFrame(org.jfree.chart.block.BlockBorder.NONE);
      legend.setBackgroundPaint(Color.WHITE);
    }
    return chart;
  }

  private static byte[] png(JFreeChart chart, int width, int height) {
    BufferedImage image = chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, "png", out)) {
        throw new IOException("no PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not encode a chart as PNG", e);
    }
    return out.toByteArray();
  }
}
