package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.tensor.Consts;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.Map;
import java.util.Set;

/**
 * L2-SP (Li, Grandvalet and Davoine 2018, "Explicit inductive bias for transfer learning with
 * convolutional networks"): weight decay towards the starting point instead of towards zero,
 *
 * <pre>
 *   penalty = (alpha / 2) * sum_i (theta_i - theta*_i)^2,   gradient alpha * (theta - theta*)
 * </pre>
 *
 * over every trainable parameter, where a base weight changed by a LoRA-style
 * {@link dev.retain.model.LinearAdapter} contributes its effective drift {@code deltaWeight()}
 * instead of LoRA's A and B (EWC with F = 1; see {@link Anchors} for what counts as drift). A
 * bottleneck adapter's weights count as ordinary trainable parameters (theta* = their initial value).
 */
public final class L2SP implements LossTerm, AutoCloseable {
  private final Anchors anchors;
  private final double alpha;

  /**
   * @param model the model being trained (create the term before training starts)
   * @param alpha strength, >= 0
   */
  public L2SP(CausalLM model, double alpha) {
    this(new Anchors(model), alpha);
  }

  L2SP(Anchors anchors, double alpha) {
    if (!(alpha >= 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException("L2-SP alpha must be a finite number >= 0, got " + alpha);
    }
    this.anchors = anchors;
    this.alpha = alpha;
  }

  @Override
  public String name() {
    return "l2sp";
  }

  @Override
  public NDArray loss(StepContext ctx) {
    return anchors.weightedSquaredDrift(n -> Anchors.UNIT).mul(Consts.of((float) (alpha / 2)));
  }

  @Override
  public void onTrainableChanged(Set<String> trainable) {
    anchors.refresh();
    anchors.snapshotTrainable(n -> true);
  }

  /** theta* &lt;- the current weights. */
  public void reanchor() {
    anchors.reanchor();
  }

  public double alpha() {
    return alpha;
  }

  Map<String, Parameter> parameters() {
    return anchors.parameters();
  }

  @Override
  public String describe() {
    return String.format("L2-SP alpha=%g (towards the starting weights)", alpha);
  }

  @Override
  public void close() {
    anchors.close();
  }
}
