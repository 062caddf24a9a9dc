package dev.retain.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared/reference (ground truth made with transformers and PEFT) and compares arrays. */
public final class Reference {
  private Reference() {}

  /** ../shared/reference/hf-llama-tiny, or the folder named by -Dretain.shared. */
  public static Path tiny() {
    String shared = System.getProperty("retain.shared", "../shared");
    Path p = Path.of(shared, "reference", "hf-llama-tiny").toAbsolutePath().normalize();
    assertTrue(Files.isDirectory(p), "reference vectors not found at " + p + " (CI keeps ../shared beside the clone)");
    return p;
  }

  /** Max |a - b|, asserting equal lengths. */
  public static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length, "lengths differ");
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  public static void assertClose(float[] expected, float[] actual, double tol, String what) {
    double d = maxAbsDiff(expected, actual);
    assertTrue(d <= tol, what + ": max abs diff " + d + " > " + tol);
  }
}
