package dev.retain.config;

/**
 * Collector handed to {@link Validatable#validate}: rules add errors by key path instead of
 * throwing, so that every broken rule is reported at once, and the binder attaches the file and
 * line where each key was written. Paths are relative to the object being validated.
 */
public final class ConfigErrors {

  /** Where errors go; implemented by the binder, which knows the source lines. */
  interface Sink {
    void add(String keyPath, String message);

    boolean isEmpty();
  }

  private final Sink sink;
  private final String prefix;

  ConfigErrors(Sink sink, String prefix) {
    this.sink = sink;
    this.prefix = prefix;
  }

  /**
   * Reports that the value at {@code keyPath} is wrong. The path is relative to the validated object
   * ({@code "lr"} in a stage gives {@code stages[1].lr}; empty means the object itself); a path that
   * already starts with the object's own path ({@code "data.sources"} from the {@code data} section)
   * is taken as absolute, so both styles work. {@code message} either completes the sentence ({@code
   * "must be > 0"} gives {@code stages[1].lr must be > 0}) or stands alone ({@code "at least one is
   * needed"} gives {@code data.sources: at least one is needed}).
   */
  public void add(String keyPath, String message) {
    sink.add(resolve(keyPath), message);
  }

  private String resolve(String keyPath) {
    if (keyPath == null || keyPath.isEmpty()) {
      return prefix;
    }
    if (!prefix.isEmpty() && (keyPath.equals(prefix) || keyPath.startsWith(prefix + ".")
        || keyPath.startsWith(prefix + "["))) {
      return keyPath;
    }
    return join(prefix, keyPath);
  }

  /** A view whose paths are relative to {@code keyPath}, for a rule that delegates to a helper. */
  public ConfigErrors at(String keyPath) {
    return new ConfigErrors(sink, resolve(keyPath));
  }

  /** The key path of the validated object ({@code ""} for the root). */
  public String path() {
    return prefix;
  }

  /** True when no error has been reported anywhere so far. */
  public boolean isEmpty() {
    return sink.isEmpty();
  }

  static String join(String prefix, String keyPath) {
    if (keyPath == null || keyPath.isEmpty()) {
      return prefix;
    }
    if (prefix.isEmpty()) {
      return keyPath;
    }
    return keyPath.startsWith("[") ? prefix + keyPath : prefix + "." + keyPath;
  }
}
