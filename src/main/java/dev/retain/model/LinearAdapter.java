package dev.retain.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A parameter-efficient change attached to one {@link Linear}: the layer computes
 * {@code W x + b + delta(x)} while the adapter is enabled. LoRA implements it (dev.retain.peft).
 */
public interface LinearAdapter {
  /** The additive change to the linear layer's output for input x. */
  NDArray delta(NDArray x);

  /**
   * The layer's output for input x, given the base output {@code base} = W x + b: base + delta(x).
   * An adapter may compute the same sum with fewer passes over the output (LoRA folds it into its
   * last matmul).
   */
  default NDArray output(NDArray x, NDArray base) {
    return base.add(delta(x));
  }

  /**
   * The change this adapter makes to the layer's weight, as a tensor [out, in] in the autograd graph
   * (LoRA: scaling * B A). EWC and L2-SP penalise this effective drift with the base weight's importance.
   */
  NDArray deltaWeight();

  /** The adapter's own parameters, under their checkpoint names. */
  List<Parameter> parameters();

  boolean enabled();

  void setEnabled(boolean enabled);
}
