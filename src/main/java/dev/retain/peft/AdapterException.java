package dev.retain.peft;

import java.io.IOException;

/**
 * A problem with an adapter folder or file: the message names the file and the key or tensor at
 * fault and, where there is one, the fix. An IOException, so the command line reports it as a user
 * error (exit code 2) without a stack trace.
 */
public final class AdapterException extends IOException {
  private static final long serialVersionUID = 1L;

  public AdapterException(String message) {
    super(message);
  }

  public AdapterException(String message, Throwable cause) {
    super(message, cause);
  }
}
