package dev.retain.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fault injection for crash-safety tests, off unless the system property {@code retain.fault} is
 * set to {@code POINT@STEP:ACTION}, e.g. {@code checkpoint.mid-write@4:hang}. Actions: {@code hang}
 * (write the marker file named by {@code retain.fault.marker}, then sleep so a test can SIGKILL the
 * process there), {@code fail} (throw "No space left on device", as a full disk would) and
 * {@code nan} (the caller poisons a value). Points: {@code step.mid} (after backward, before the
 * optimizer), {@code checkpoint.mid-write} (half of a checkpoint's files written), {@code loss.nan}.
 */
public final class Faults {
  private Faults() {}

  /** The action configured for this point and step, or null. */
  public static String action(String point, long step) {
    String spec = System.getProperty("retain.fault");
    if (spec == null) {
      return null;
    }
    int at = spec.indexOf('@');
    int colon = spec.lastIndexOf(':');
    if (at < 0 || colon < at) {
      return null;
    }
    if (!spec.substring(0, at).equals(point) || Long.parseLong(spec.substring(at + 1, colon)) != step) {
      return null;
    }
    return spec.substring(colon + 1);
  }

  /** Hangs or fails here when configured; otherwise returns at once. */
  public static void point(String point, long step) throws IOException {
    String action = action(point, step);
    if (action == null) {
      return;
    }
    switch (action) {
      case "hang" -> {
        String marker = System.getProperty("retain.fault.marker");
        if (marker != null) {
          Files.writeString(Path.of(marker), point + "@" + step + "\n");
        }
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      case "fail" -> throw new IOException("No space left on device (injected fault at " + point + "@" + step + ")");
      default -> { }
    }
  }
}
