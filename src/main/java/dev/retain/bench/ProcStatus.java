package dev.retain.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from /proc/self/status (Linux): VmRSS now and VmHWM, the peak
 * ("high water mark") since the process started. -1 where /proc is not available.
 */
public final class ProcStatus {
  private ProcStatus() {}

  /** Current resident set in bytes. */
  public static long rss() {
    return field("VmRSS:");
  }

  /** Peak resident set since the process started, in bytes. */
  public static long peakRss() {
    return field("VmHWM:");
  }

  /** Minor page faults of this process so far (/proc/self/stat field 10), -1 where unavailable. */
  public static long minorFaults() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      return Long.parseLong(f[7]); // fields after the command: state(3) ... minflt(10)
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static long field(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(name)) {
          String[] parts = line.substring(name.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024L; // kB
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
