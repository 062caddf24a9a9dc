package dev.retain.config;

/**
 * One thing wrong with a configuration, with enough context to fix it without reading code.
 *
 * @param source where the value came from: the YAML file as the user named it, or {@code
 *     command-line override 'key=value'}; null for an object built in code
 * @param line 1-based line in {@code source}, or 0 when no line applies (an override, a key that is
 *     missing, an empty file)
 * @param keyPath dotted key path such as {@code data.sources.domain.weight} or {@code stages[1].lr};
 *     empty for the document as a whole
 * @param message the explanation, which names the key path itself
 */
public record ConfigProblem(String source, int line, String keyPath, String message) {

  /** The location prefix, e.g. {@code run.yaml:7}, or empty when there is none. */
  public String location() {
    if (source == null) {
      return "";
    }
    return line > 0 ? source + ":" + line : source;
  }

  /** One line in the compiler-like form {@code run.yaml:7: message}. */
  @Override
  public String toString() {
    String loc = location();
    return loc.isEmpty() ? message : loc + ": " + message;
  }
}
