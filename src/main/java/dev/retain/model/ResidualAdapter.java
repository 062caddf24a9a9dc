package dev.retain.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * A module inserted after a sublayer's output h, returning h + f(h) while enabled (the bottleneck
 * adapter of Houlsby et al. after each MLP, dev.retain.peft).
 */
public interface ResidualAdapter {
  NDArray forward(NDArray h);

  List<Parameter> parameters();

  boolean enabled();

  void setEnabled(boolean enabled);
}
