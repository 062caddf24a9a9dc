package dev.retain.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** The bfloat16 linear against products of bfloat16-rounded inputs summed here in double, then rounded. */
class Bfloat16Test {

  /**
   * float32 -> bfloat16 -> float32 with round-to-nearest-even, as libtorch converts (finite values).
   * Written out here rather than taken from HalfFloats, so the check does not lean on retain's own code.
   */
  static double bf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(rounded & 0xFFFF0000);
  }

  static float[] values(int n, int seed) {
    float[] v = new float[n];
    long s = seed;
    for (int i = 0; i < n; i++) {
      s = s * 6364136223846793005L + 1442695040888963407L;
      v[i] = ((s >>> 40) / (float) (1 << 24) - 0.5f) * 3f;
    }
    return v;
  }

  @Test
  void linearIsTheProductOfBfloat16RoundedInputsAccumulatedInFloat32() {
    int rows = 5;
    int in = 37;
    int out = 11;
    float[] x = values(rows * in, 1);
    float[] w = values(out * in, 2);
    try (NDManager m = Backend.newManager(); Bfloat16 bf = new Bfloat16(m)) {
      Bfloat16.Weight copy = bf.keep(m.create(w, new Shape(out, in)));
      assertEquals(1, bf.size());
      float[] got = copy.linear(m.create(x, new Shape(rows, in))).toFloatArray();
      assertEquals(rows * out, got.length);
      double worstToFloat32 = 0;
      for (int r = 0; r < rows; r++) {
        for (int o = 0; o < out; o++) {
          double want = 0;
          double exact = 0;
          double mass = 0;
          for (int k = 0; k < in; k++) {
            want += bf16(x[r * in + k]) * bf16(w[o * in + k]);
            exact += (double) x[r * in + k] * w[o * in + k];
            mass += Math.abs(x[r * in + k] * w[o * in + k]);
          }
          // The sum is rounded to bfloat16 at the end: within half a step (2^-8 relative) of it.
          float g = got[r * out + o];
          assertEquals(0, Float.floatToRawIntBits(g) & 0xFFFF, "a bfloat16 value: " + g);
          assertEquals(want, g, 0x1p-8 * Math.abs(want) + 1e-6 * mass, "[" + r + ", " + o + "]");
          worstToFloat32 = Math.max(worstToFloat32, Math.abs(exact - got[r * out + o]) / mass);
        }
      }
      assertTrue(worstToFloat32 > 1e-4, "the product really ran on rounded inputs: " + worstToFloat32);
    }
  }

  @Test
  void roundsToBfloat16AndKeepsACopyNotAView() {
    try (NDManager m = Backend.newManager(); Bfloat16 bf = new Bfloat16(m)) {
      NDArray w = m.create(new float[] {1f, 2f}, new Shape(1, 2));
      Bfloat16.Weight copy = bf.keep(w);
      // 1 + 2^-9 is below bfloat16's resolution at 1 (2^-7): it rounds to 1.
      float[] y = copy.linear(m.create(new float[] {1f + 0x1p-9f, 0.5f}, new Shape(1, 2))).toFloatArray();
      assertEquals(2.0f, y[0], 0f);
      w.muli(3f); // outside any graph: the kept copy does not follow
      assertEquals(2.0f, copy.linear(m.create(new float[] {1f, 0.5f}, new Shape(1, 2))).toFloatArray()[0], 0f);
      Bfloat16.Weight second = bf.keep(w);
      assertEquals(1, second.slot());
      assertEquals(6.0f, second.linear(m.create(new float[] {1f, 0.5f}, new Shape(1, 2))).toFloatArray()[0], 0f);
    }
  }

  /**
   * While autograd records, the gradient reaches x: the incoming gradient rounded to bfloat16, times
   * the bfloat16 copy, summed in float32 and rounded to bfloat16. The copy is a constant: the float32
   * weight it came from gets nothing.
   */
  @Test
  void gradientReachesTheInputThroughTheCopy() {
    int rows = 4;
    int in = 29;
    int out = 13;
    float[] x = values(rows * in, 3);
    float[] w = values(out * in, 4);
    float[] g = values(rows * out, 5);
    try (NDManager m = Backend.newManager(); Bfloat16 bf = new Bfloat16(m)) {
      NDArray weight = m.create(w, new Shape(out, in));
      Bfloat16.Weight copy = bf.keep(weight);
      NDArray input = m.create(x, new Shape(rows, in));
      input.setRequiresGradient(true);
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        NDArray y = copy.linear(input);
        gc.backward(y.mul(m.create(g, new Shape(rows, out))).sum());
      }
      float[] got = input.getGradient().toFloatArray();
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < in; k++) {
          double want = 0;
          double mass = 0;
          for (int o = 0; o < out; o++) {
            want += bf16(g[r * out + o]) * bf16(w[o * in + k]);
            mass += Math.abs(g[r * out + o] * w[o * in + k]);
          }
          float v = got[r * in + k];
          assertEquals(0, Float.floatToRawIntBits(v) & 0xFFFF, "a bfloat16 value: " + v);
          assertEquals(want, v, 0x1p-8 * Math.abs(want) + 1e-6 * mass, "dx[" + r + ", " + k + "]");
        }
      }
      assertTrue(!weight.hasGradient() || weight.getGradient().abs().max().getFloat() == 0f, "the float32 weight gets nothing");
    }
  }

  @Test
  void withoutRecordingTheOutputIsAValueAndClosingTwiceIsFine() {
    try (NDManager m = Backend.newManager()) {
      Bfloat16 bf = new Bfloat16(m);
      Bfloat16.Weight copy = bf.keep(m.create(new float[] {1f, 2f}, new Shape(1, 2)));
      NDArray x = m.create(new float[] {1f, 1f}, new Shape(1, 2));
      assertEquals(3f, copy.linear(x).toFloatArray()[0], 0f);
      bf.close();
      bf.close();
    }
  }
}
