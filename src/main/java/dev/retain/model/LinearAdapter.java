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

  /** The adapter's own parameters, under their checkpoint names. */
  List<Parameter> parameters();

  boolean enabled();

  void setEnabled(boolean enabled);
}
