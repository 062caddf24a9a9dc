package dev.retain.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.retain.data.Batch;
import dev.retain.model.CausalLM;
import dev.retain.model.PackedInputs;

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
        PackedInputs in = PackedInputs.of(m, b.seqLen(), b.inputIds(), b.positions(), b.segments(), b.targets());
        sum += in.loss(model.targetLogits(in)).getFloat();
        tokens += b.targetTokens();
      }
    }
    return new Total(sum, tokens);
  }
}
