package dev.retain.peft.bottleneck;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.retain.model.Parameter;
import dev.retain.model.ResidualAdapter;
import dev.retain.tensor.Ops;
import java.util.List;

/**
 * One bottleneck adapter: h + up(act(down(h))), with down [bottleneck, hidden] + bias and
 * up [hidden, bottleneck] + bias. Up starts at zero, so a fresh adapter is the identity.
 */
public final class BottleneckAdapter implements ResidualAdapter {
  private final int layer;
  private final BottleneckConfig.Activation activation;
  private final Parameter downWeight;
  private final Parameter downBias;
  private final Parameter upWeight;
  private final Parameter upBias;
  private boolean enabled = true;

  BottleneckAdapter(int layer, BottleneckConfig.Activation activation, Parameter downWeight, Parameter downBias,
      Parameter upWeight, Parameter upBias) {
    this.layer = layer;
    this.activation = activation;
    this.downWeight = downWeight;
    this.downBias = downBias;
    this.upWeight = upWeight;
    this.upBias = upBias;
  }

  /** model.layers.N.mlp_adapter, the prefix of this adapter's parameter names. */
  public static String prefix(int layer) {
    return "model.layers." + layer + ".mlp_adapter";
  }

  @Override
  public NDArray forward(NDArray h) {
    NDArray z = Ops.linear(h, downWeight.data(), downBias.data());
    z = switch (activation) {
      case SILU -> Ops.silu(z);
      case RELU -> Activation.relu(z);
      case GELU -> Activation.gelu(z);
    };
    return h.add(Ops.linear(z, upWeight.data(), upBias.data()));
  }

  /** down.weight, down.bias, up.weight, up.bias. */
  @Override
  public List<Parameter> parameters() {
    return List.of(downWeight, downBias, upWeight, upBias);
  }

  @Override
  public boolean enabled() {
    return enabled;
  }

  @Override
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public int layer() {
    return layer;
  }

  public BottleneckConfig.Activation activation() {
    return activation;
  }
}
