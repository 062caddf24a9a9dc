package dev.retain.model.safetensors;

import java.io.IOException;

/**
 * Any problem reading or writing a safetensors file or checkpoint folder.
 *
 * <p>Why one checked type: callers loading untrusted or half-downloaded checkpoints must be able to
 * catch every failure in one place, and every message names the file (and the tensor, where there
 * is one), says what is wrong and, where possible, how to fix it. The reader guarantees that no
 * other exception type (no OutOfMemoryError, NegativeArraySizeException, BufferUnderflowException,
 * ...) escapes because of malformed file contents.
 */
public final class SafetensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
