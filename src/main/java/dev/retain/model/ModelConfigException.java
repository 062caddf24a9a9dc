package dev.retain.model;

/** A config.json that retain cannot use; the message names the file, the key and the fix. */
public final class ModelConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ModelConfigException(String message) {
    super(message);
  }
}
