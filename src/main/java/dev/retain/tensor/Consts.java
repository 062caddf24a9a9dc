package dev.retain.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Long-lived 0-d float tensors for constants used inside the autograd graph.
 *
 * <p>DJL wraps a Java scalar ({@code x.mul(3f)}) in a tensor over a temporary buffer that can be
 * freed while autograd still holds it, which gives wrong gradients after a garbage collection
 * (djl-notes.md, pitfall 1). Every constant that meets a tensor with gradients therefore comes from
 * here: created once, never closed, and always used as the <em>second</em> operand so that results
 * land in the caller's manager, not in this one.
 */
public final class Consts {
  private static final ConcurrentHashMap<Float, NDArray> CACHE = new ConcurrentHashMap<>();
  private static volatile NDManager manager;

  private Consts() {}

  /** The 0-d float32 tensor holding {@code value}. */
  public static NDArray of(float value) {
    NDArray c = CACHE.get(value);
    if (c != null) {
      return c;
    }
    synchronized (Consts.class) {
      c = CACHE.get(value);
      if (c == null) {
        if (manager == null) {
          manager = Backend.newManager();
        }
        c = manager.create(value);
        // Created perhaps inside a training step's scope: keep it alive past that scope.
        NDScope.unregister(c);
        CACHE.put(value, c);
      }
      return c;
    }
  }
}
