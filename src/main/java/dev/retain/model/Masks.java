package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Host;

/**
 * Additive attention masks (0 where a query may attend, -inf where it may not), built on the Java
 * side as plain constants: they never need gradients and building them here keeps scalar
 * operations out of the graph.
 */
public final class Masks {
  private Masks() {}

  /** [1, 1, T, past+T]: query i (at position past+i) sees keys 0..past+i. */
  public static NDArray causal(NDManager m, int t, int past) {
    int s = past + t;
    float[] mask = new float[t * s];
    for (int i = 0; i < t; i++) {
      for (int j = past + i + 1; j < s; j++) {
        mask[i * s + j] = Float.NEGATIVE_INFINITY;
      }
    }
    return Host.of(m, mask, new Shape(1, 1, t, s));
  }

  /**
   * [B, 1, T, past+T] for left-padded rows (row r's first pad[r] slots are padding): query i, at
   * slot past+i, sees the real keys up to itself. A pad query sees only itself, so that no softmax
   * row is empty; its output is never used.
   */
  public static NDArray leftPadded(NDManager m, int[] pad, int t, int past) {
    int b = pad.length;
    int s = past + t;
    float[] mask = new float[b * t * s];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        int q = past + i;
        for (int j = 0; j < s; j++) {
          boolean see = j <= q && (j >= pad[r] || j == q);
          mask[(r * t + i) * s + j] = see ? 0f : Float.NEGATIVE_INFINITY;
        }
      }
    }
    return Host.of(m, mask, new Shape(b, 1, t, s));
  }

  /**
   * [B, 1, T, T] for packed rows: query i sees key j when j <= i and both belong to the same
   * document (equal segment ids). Documents packed into one row never attend to each other.
   */
  public static NDArray packed(NDManager m, int[][] segments) {
    int b = segments.length;
    int t = segments[0].length;
    float[] mask = new float[b * t * t];
    for (int r = 0; r < b; r++) {
      int[] seg = segments[r];
      int base = r * t * t;
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < t; j++) {
          if (j > i || seg[j] != seg[i]) {
            mask[base + i * t + j] = Float.NEGATIVE_INFINITY;
          }
        }
      }
    }
    return Host.of(m, mask, new Shape(b, 1, t, t));
  }
}
