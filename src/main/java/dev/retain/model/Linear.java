package dev.retain.model;

import ai.djl.ndarray.NDArray;
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

  public Linear(String name, Parameter weight, Parameter bias) {
    this.name = name;
    this.weight = weight;
    this.bias = bias;
  }

  public NDArray forward(NDArray x) {
    NDArray y = Ops.linear(x, weight.data(), bias == null ? null : bias.data());
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

  public long inFeatures() {
    return weight.data().getShape().get(1);
  }

  public long outFeatures() {
    return weight.data().getShape().get(0);
  }
}
