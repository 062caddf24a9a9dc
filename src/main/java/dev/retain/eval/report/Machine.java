package dev.retain.eval.report;

/** Where the comparison ran: CPU cores available to the JVM and the JVM's name and version. */
public record Machine(int cores, String jvm) {
  public Machine {
    jvm = jvm == null ? "" : jvm;
  }

  /** This JVM (for the caller; the report itself never looks at its own machine). */
  public static Machine current() {
    return new Machine(Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name", "?") + " " + System.getProperty("java.runtime.version", System.getProperty("java.version", "?")));
  }
}
