package dev.retain.data;

import java.io.IOException;

/**
 * A problem with a training or validation file that the user must fix (bad JSONL line, empty or
 * missing file). It is an {@link IOException} so that file-reading callers handle it with the other
 * I/O failures; the message always names the file (and the line, {@code file:line: what; how to fix}).
 */
public class DataException extends IOException {
  private static final long serialVersionUID = 1L;

  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
