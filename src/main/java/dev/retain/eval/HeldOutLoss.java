package dev.retain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.data.Batch;
import dev.retain.model.CausalLM;
import dev.retain.model.Masks;
import dev.retain.tensor.Host;
import dev.retain.tensor.Ops;

/**
 * Mean next-token cross-entropy (nats per target token) of a model on packed batches, without
 * gradients: the validation loss of training and the general-text probe of evaluation.
 */
public final class HeldOutLoss {
  private HeldOutLoss() {}

  /** Sum of losses and number of target tokens over the batches. */
  public record Total(double sum, long tokens) {
    public double mean() {
      return tokens == 0 ? Double.NaN : sum / tokens;
    }
  }

  public static double meanLoss(CausalLM model, Iterable<Batch> batches) {
    return total(model, batches).mean();
  }

  public static Total total(CausalLM model, Iterable<Batch> batches) {
    double sum = 0;
    long tokens = 0;
    NDManager m = model.manager();
    for (Batch b : batches) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        Shape shape = new Shape(b.rows(), b.seqLen());
        NDArray logits = model.forward(Host.of(m, b.inputIds(), shape), Host.of(m, b.positions(), shape),
            Masks.packed(m, b.segments()), null, false).logits();
        sum += Ops.crossEntropy(logits, Host.of(m, b.gatherTargets(), shape)).mul(Host.of(m, b.targetWeights(1f), shape))
            .sum().getFloat();
        tokens += b.targetTokens();
      }
    }
    return new Total(sum, tokens);
  }
}
