package dev.retain.train;

import java.io.PrintStream;
import java.time.Duration;

/**
 * Progress of a long job: a one-line bar redrawn in place on a terminal (step, loss, tokens/s, ETA),
 * plain log lines every N steps otherwise (CI logs, files).
 */
public final class Progress {
  private final PrintStream out;
  private final boolean terminal;
  private long total;
  private final String label;
  private final long started = System.nanoTime();
  private long startStep = -1;
  private boolean drawn;

  public Progress(String label, long total) {
    this(label, total, System.err, System.console() != null && !"true".equals(System.getenv("CI")));
  }

  public Progress(String label, long total, PrintStream out, boolean terminal) {
    this.label = label;
    this.total = total;
    this.out = out;
    this.terminal = terminal;
  }

  /** The run's length changed (the retention budget replanned the data). */
  public void setTotal(long total) {
    this.total = total;
  }

  /** Reports step {@code step} (1-based, done) with a short status; {@code log} forces a plain line. */
  public void update(long step, String status, boolean log) {
    if (startStep < 0) {
      startStep = step - 1;
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    long done = step - startStep;
    double perStep = done > 0 ? elapsed / done : 0;
    String eta = format(Duration.ofSeconds((long) (perStep * Math.max(0, total - step))));
    if (terminal) {
      int width = 24;
      int filled = (int) Math.round(width * Math.min(1.0, step / (double) Math.max(1, total)));
      out.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + step + "/" + total
          + " " + status + " eta " + eta + "   ");
      out.flush();
      drawn = true;
    } else if (log) {
      out.println(label + " step " + step + "/" + total + " " + status + " eta " + eta);
    }
  }

  /** A message on its own line (an evaluation, a stage change), keeping the bar intact. */
  public void println(String message) {
    if (drawn) {
      out.println();
      drawn = false;
    }
    out.println(message);
  }

  public void finish() {
    if (drawn) {
      out.println();
      drawn = false;
    }
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60) : String.format("%dm%02ds", s / 60, s % 60);
  }
}
