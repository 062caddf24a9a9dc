package dev.retain.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Gradient access that DJL's API lacks: zeroing in place (DJL never zeroes gradients, see
 * djl-notes.md pitfall 4) and a read that tolerates a parameter the loss did not reach.
 */
public final class Grads {
  private Grads() {}

  /** Sets x.grad to zero in place; accumulation of micro-batches relies on this being explicit. */
  public static void zero(NDArray x) {
    JniUtils.zeroGrad((PtNDArray) x);
  }

  /**
   * The gradient of x as a new handle (closed with the caller's scope), or null when x has no
   * gradient yet (the loss never reached it).
   */
  public static NDArray of(NDArray x) {
    try {
      NDArray g = x.getGradient();
      return g == null || g.isEmpty() ? null : g;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
