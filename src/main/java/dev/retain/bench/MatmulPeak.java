package dev.retain.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Backend;

/**
 * The machine's practical float32 matmul throughput through DJL/libtorch: an n x n by n x n product
 * (2 n^3 FLOPs), the fastest of the repeats after warm-up. The denominator of model FLOP
 * utilisation. The fastest, not the median: on a shared machine the median falls with the load (it
 * went as low as 50-65 GFLOP/s here while the fastest stayed near 100), and a peak that sinks below
 * what the model's own matmuls reach would put MFU above 100%.
 */
public final class MatmulPeak {
  private MatmulPeak() {}

  /** GFLOP/s of an n^3 matmul, the fastest of {@code repeats} timed products after two warm-up products. */
  public static double gflops(int n, int repeats) {
    try (NDManager m = Backend.newManager(); NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray a = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
      NDArray b = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
      double[] t = new double[repeats];
      for (int i = -2; i < repeats; i++) {
        long t0 = System.nanoTime();
        NDArray c = a.matMul(b);
        c.close();
        long t1 = System.nanoTime();
        if (i >= 0) {
          t[i] = (t1 - t0) / 1e9;
        }
      }
      double best = java.util.Arrays.stream(t).min().orElse(Double.NaN);
      return 2.0 * n * n * (double) n / best / 1e9;
    }
  }
}
