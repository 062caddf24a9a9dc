package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.tensor.Consts;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Elastic Weight Consolidation (Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in
 * neural networks", PNAS), with the online variant of Schwarz et al. 2018 ("Progress &amp;
 * Compress"):
 *
 * <pre>
 *   penalty = (lambda / 2) * sum_i F_i (theta_i - theta*_i)^2
 * </pre>
 *
 * over the parameters that have a Fisher entry and can move: trainable base weights (drift theta -
 * theta*) and base weights changed by a {@link dev.retain.model.LinearAdapter} (drift = the adapter's
 * effective weight change {@code deltaWeight()}, LoRA's scaling * B A, penalised with the base
 * weight's Fisher; plus W - W* if W trains too). Frozen weights have zero drift and are skipped. F is
 * an {@link Importance} (normally {@link Importance#fisher}, the diagonal empirical Fisher of the base
 * model on general data); theta* is a frozen copy of each weight's starting value (see
 * {@link Anchors}). The gradient is lambda * F * (theta - theta*).
 *
 * <p>Online EWC: {@link #foldIn} replaces F by gamma * F + F_new; {@link #reanchor} moves theta* to the
 * current weights (the start of the next task). Across runs, merge the files with
 * {@link Importance#online} and start a new term from the merged file.
 */
public final class Ewc implements LossTerm, AutoCloseable {
  private final Anchors anchors;
  private final double lambda;
  private final double gamma;
  private Importance fisher;
  private final Map<String, NDArray> f = new LinkedHashMap<>();

  /** EWC with strength {@code lambda} and Fisher {@code fisher} (gamma = 1). */
  public Ewc(CausalLM model, Importance fisher, double lambda) {
    this(model, fisher, lambda, 1.0);
  }

  /**
   * @param model the model being trained (create the term before training starts)
   * @param fisher importance keyed by the model's parameter names; checked against the model
   * @param lambda penalty strength, >= 0
   * @param gamma online-EWC decay used by {@link #foldIn}, in [0, 1]
   */
  public Ewc(CausalLM model, Importance fisher, double lambda, double gamma) {
    this(new Anchors(model), fisher, lambda, gamma);
  }

  Ewc(Anchors anchors, Importance fisher, double lambda, double gamma) {
    if (!(lambda >= 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("EWC lambda must be a finite number >= 0, got " + lambda);
    }
    if (!(gamma >= 0 && gamma <= 1)) {
      throw new IllegalArgumentException("online EWC gamma must be in [0, 1], got " + gamma);
    }
    fisher.checkAgainst(anchors.parameters(), "EWC importance (" + fisher + ")");
    this.anchors = anchors;
    this.fisher = fisher;
    this.lambda = lambda;
    this.gamma = gamma;
  }

  @Override
  public String name() {
    return "ewc";
  }

  @Override
  public NDArray loss(StepContext ctx) {
    NDArray sum = anchors.weightedSquaredDrift(this::fisherTensor);
    return sum.mul(Consts.of((float) (lambda / 2)));
  }

  private NDArray fisherTensor(String name) {
    if (!fisher.contains(name)) {
      return null;
    }
    return f.computeIfAbsent(name, n -> fisher.tensor(anchors.manager(), n));
  }

  @Override
  public void onTrainableChanged(Set<String> trainable) {
    anchors.refresh();
    anchors.snapshotTrainable(fisher::contains);
  }

  /** Online EWC: F &lt;- gamma F + F_new (see {@link Importance#online}). */
  public void foldIn(Importance newer) {
    newer.checkAgainst(anchors.parameters(), "EWC importance (" + newer + ")");
    fisher = fisher.online(newer, gamma);
    f.values().forEach(NDArray::close);
    f.clear();
  }

  /** theta* &lt;- the current weights (after a task, before the next). */
  public void reanchor() {
    anchors.reanchor();
  }

  /** The Fisher in use. */
  public Importance fisher() {
    return fisher;
  }

  public double lambda() {
    return lambda;
  }

  public double gamma() {
    return gamma;
  }

  @Override
  public String describe() {
    int n = fisher.samples();
    return String.format("EWC lambda=%g%s (%s from %s, %d tensors%s)", lambda, gamma != 1 ? " gamma=" + gamma : "",
        fisher.kind(), n > 0 ? n + " sequences" : "unknown samples", fisher.names().size(),
        fisher.metadata().containsKey("retain.online") ? ", online: " + fisher.metadata().get("retain.online") : "");
  }

  /** Parameters known to the term (for tests). */
  Map<String, Parameter> parameters() {
    return anchors.parameters();
  }

  @Override
  public void close() {
    anchors.close();
    f.values().forEach(NDArray::close);
    f.clear();
  }
}
