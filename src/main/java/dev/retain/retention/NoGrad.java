package dev.retain.retention;

import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * Runs tensor code with autograd recording switched off (libtorch's no_grad), also inside an open
 * gradient collector, and restores the previous mode. For teacher passes and bookkeeping that must
 * not build a graph.
 */
final class NoGrad {
  private NoGrad() {}

  static <T> T get(Supplier<T> body) {
    boolean was = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return body.get();
    } finally {
      JniUtils.setGradMode(was);
    }
  }

  static void run(Runnable body) {
    get(() -> {
      body.run();
      return null;
    });
  }
}
