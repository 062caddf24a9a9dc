package dev.retain.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A named data source ("domain", "general", "math"...): a training JSONL file and an optional
 * validation file. The name is what batches, metrics and reports call it.
 *
 * @param validation null when the source has no validation file
 */
public record Source(String name, Path train, Path validation) {
  public Source {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(train, "train");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a data source needs a name");
    }
  }

  /** A source with no validation file. */
  public static Source of(String name, Path train) {
    return new Source(name, train, null);
  }

  /** Tokenises both splits with {@code loader}. */
  public LoadedSource load(ExampleLoader loader) throws DataException {
    TokenizedFile t = loader.load(train);
    TokenizedFile v = validation == null ? null : loader.load(validation);
    return new LoadedSource(name, t, v);
  }
}
