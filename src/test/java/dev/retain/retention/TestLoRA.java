package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.Linear;
import dev.retain.model.LinearAdapter;
import dev.retain.model.Parameter;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Ops;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A test-only LoRA-style adapter (independent of dev.retain.peft): delta(x) = s * x A^T B^T,
 * deltaWeight = s * B A, A [r, in], B [out, r].
 */
final class TestLoRA implements LinearAdapter {
  final Parameter a;
  final Parameter b;
  final float scaling;
  private boolean enabled = true;

  TestLoRA(Parameter a, Parameter b, float scaling) {
    this.a = a;
    this.b = b;
    this.scaling = scaling;
  }

  /** Attaches an adapter of rank r with seeded A and B (B = 0 when bScale is 0) to {@code lin}. */
  static TestLoRA attach(Linear lin, int r, float scaling, double aScale, double bScale, long seed) {
    NDManager m = lin.weight.data().getManager();
    int in = (int) lin.inFeatures();
    int out = (int) lin.outFeatures();
    SplittableRandom rng = new SplittableRandom(seed);
    float[] av = new float[r * in];
    float[] bv = new float[out * r];
    for (int i = 0; i < av.length; i++) {
      av[i] = (float) ((rng.nextDouble() * 2 - 1) * aScale);
    }
    for (int i = 0; i < bv.length; i++) {
      bv[i] = (float) ((rng.nextDouble() * 2 - 1) * bScale);
    }
    TestLoRA l = new TestLoRA(param(m, lin.name + ".lora_A.weight", av, new Shape(r, in)),
        param(m, lin.name + ".lora_B.weight", bv, new Shape(out, r)), scaling);
    lin.setAdapter(l);
    return l;
  }

  static Parameter param(NDManager m, String name, float[] v, Shape shape) {
    try (NDScope s = new NDScope()) {
      s.suppressNotUsedWarning();
      NDArray x = m.create(v, shape);
      NDScope.unregister(x);
      return new Parameter(name, x);
    }
  }

  @Override
  public NDArray delta(NDArray x) {
    return Ops.linear(Ops.linear(x, a.data(), null), b.data(), null).mul(Consts.of(scaling));
  }

  @Override
  public NDArray deltaWeight() {
    return b.data().matMul(a.data()).mul(Consts.of(scaling));
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(a, b);
  }

  @Override
  public boolean enabled() {
    return enabled;
  }

  @Override
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }
}
