package dev.retain.config;

import java.util.List;

/**
 * A configuration that retain refuses to run with. It carries every problem found in the file and
 * the overrides, sorted by line, so that a user fixes them all in one edit instead of one per run.
 * It is an {@link IllegalArgumentException} because it is the user's input that is wrong: the CLI
 * prints the message without a stack trace.
 */
public final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient List<ConfigProblem> problems;

  public ConfigException(List<ConfigProblem> problems) {
    super(render(problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  /** All problems, in report order (by source, then line). */
  public List<ConfigProblem> problems() {
    return problems;
  }

  /** The source (file name as given, or the override) of the first problem; null if none. */
  public String file() {
    return problems.get(0).source();
  }

  /** The line of the first problem, 0 when it has none. */
  public int line() {
    return problems.get(0).line();
  }

  /** The key path of the first problem. */
  public String keyPath() {
    return problems.get(0).keyPath();
  }

  private static String render(List<ConfigProblem> problems) {
    if (problems.size() == 1) {
      return problems.get(0).toString();
    }
    StringBuilder sb = new StringBuilder().append(problems.size()).append(" configuration errors:");
    for (ConfigProblem p : problems) {
      sb.append("\n  ").append(p);
    }
    return sb.toString();
  }
}
