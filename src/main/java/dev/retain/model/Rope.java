package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Ops;

/**
 * Rotary position embedding tables (cos and sin, [positions, head_dim]) in Hugging Face's layout:
 * the frequencies are repeated twice along the last axis to pair with rotate_half. The sin table
 * holds rotate_half's sign, (-sin, sin) on the two halves, as {@link Ops#rope} expects. Computed in
 * float32 exactly as transformers does (inv_freq = 1 / theta^(2i/d), then position * inv_freq), so
 * long positions round the same way. Grown on demand, kept for the model's lifetime.
 */
final class Rope {
  private final NDManager manager;
  private final int headDim;
  private final double theta;
  private NDArray cos;
  private NDArray sin;
  private int size;

  Rope(NDManager manager, int headDim, double theta) {
    this.manager = manager;
    this.headDim = headDim;
    this.theta = theta;
  }

  /** cos and signed sin for the given int64 positions [B, T], shaped [B, 1, T, D] to broadcast over heads. */
  synchronized NDArray[] lookup(NDArray positions, int maxPosition) {
    ensure(maxPosition + 1);
    NDArray c = Ops.embedding(positions, cos).expandDims(1);
    NDArray s = Ops.embedding(positions, sin).expandDims(1);
    return new NDArray[] {c, s};
  }

  private void ensure(int needed) {
    if (needed <= size) {
      return;
    }
    int n = Math.max(needed, Math.max(64, size * 2));
    int half = headDim / 2;
    float[] invFreq = new float[half];
    for (int i = 0; i < half; i++) {
      float exponent = (float) (2 * i) / (float) headDim;
      invFreq[i] = 1.0f / (float) Math.pow(theta, exponent);
    }
    float[] c = new float[n * headDim];
    float[] s = new float[n * headDim];
    for (int p = 0; p < n; p++) {
      for (int i = 0; i < half; i++) {
        float f = (float) p * invFreq[i];
        float cv = (float) Math.cos(f);
        float sv = (float) Math.sin(f);
        c[p * headDim + i] = cv;
        c[p * headDim + half + i] = cv;
        s[p * headDim + i] = -sv;
        s[p * headDim + half + i] = sv;
      }
    }
    if (cos != null) {
      cos.close();
      sin.close();
    }
    cos = manager.create(c, new Shape(n, headDim));
    sin = manager.create(s, new Shape(n, headDim));
    NDScope.unregister(cos, sin);
    size = n;
  }
}
