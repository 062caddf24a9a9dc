package dev.retain.cli;

import dev.retain.model.ModelConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * Turns failures into one clear line on stderr and a non-zero exit. Errors that come from the
 * user's input (files, keys, values) are printed without a stack trace: their message already names
 * the file or key and the fix. Anything else is a bug, printed in full.
 */
final class Errors {
  static final int USER_ERROR = 2;
  static final int INTERNAL_ERROR = 70;

  private Errors() {}

  static int handle(Exception e, CommandLine cl, ParseResult parsed) {
    Throwable t = e;
    if (t instanceof UncheckedIOException u) {
      t = u.getCause();
    }
    if (t instanceof IOException || t instanceof IllegalArgumentException || t instanceof ModelConfigException
        || t instanceof UserException || t instanceof dev.retain.train.Trainer.NonFiniteException) {
      cl.getErr().println("retain: error: " + t.getMessage());
      return USER_ERROR;
    }
    cl.getErr().println("retain: internal error (please report it with the command you ran):");
    t.printStackTrace(cl.getErr());
    return INTERNAL_ERROR;
  }

  /** A problem with what the user asked for, stated so that they can fix it. */
  static final class UserException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UserException(String message) {
      super(message);
    }
  }
}
