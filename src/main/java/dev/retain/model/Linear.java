package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Bfloat16;
import dev.retain.tensor.Ops;

/**
 * A linear projection y = x W^T + b named as in the checkpoint ({@code model.layers.0.self_attn.q_proj}),
 * with an optional adapter hook. PEFT targets modules by these names, so LoRA finds its layers here.
 */
public final class Linear {
  public final String name;
  public final Parameter weight;
  public final Parameter bias;
  private LinearAdapter adapter;
  private Bfloat16.Weight bfloat16; // while set, the base product runs on this copy (see Bfloat16Copies)
  private boolean released; // the float32 weight was freed for good: only the bfloat16 copy remains

  public Linear(String name, Parameter weight, Parameter bias) {
    this.name = name;
    this.weight = weight;
    this.bias = bias;
  }

  public NDArray forward(NDArray x) {
    NDArray y;
    if (bfloat16 != null) { // Bfloat16Copies.run checked that the weight is frozen
      y = bfloat16.linear(x);
      if (bias != null) {
        y = y.add(bias.data());
      }
    } else if (released) {
      throw new IllegalStateException(name + ": its float32 weight was freed when the model became a bfloat16 "
          + "teacher (Bfloat16Copies.replacing), and its copies are closed");
    } else {
      y = Ops.linear(x, weight.data(), bias == null ? null : bias.data());
    }
    if (adapter != null && adapter.enabled()) {
      y = adapter.output(x, y);
    }
    return y;
  }

  public LinearAdapter adapter() {
    return adapter;
  }

  public void setAdapter(LinearAdapter adapter) {
    this.adapter = adapter;
  }

  /** Runs the base product on {@code copy} (a bfloat16 copy of the weight) until called with null. */
  void useBfloat16(Bfloat16.Weight copy) {
    this.bfloat16 = copy;
  }

  /**
   * Frees the float32 weight for good (a frozen teacher that runs on its bfloat16 copy): a zero-stride
   * view of the same shape stands in, so shapes still read right, and the float32 path refuses to run.
   */
  void releaseWeight() {
    Shape shape = weight.data().getShape();
    NDArray stand;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      stand = weight.data().getManager().zeros(new Shape(1)).broadcast(shape);
      NDScope.unregister(stand);
    }
    weight.set(stand);
    released = true;
  }

  public long inFeatures() {
    return weight.data().getShape().get(1);
  }

  public long outFeatures() {
    return weight.data().getShape().get(0);
  }
}
