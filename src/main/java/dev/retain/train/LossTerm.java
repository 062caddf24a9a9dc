package dev.retain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.Map;
import java.util.Set;

/**
 * An extra term of the training loss with optional hooks, the shape every retention method takes
 * (EWC, SI, L2-SP, distillation: dev.retain.retention), in the spirit of Avalanche's plugins. The
 * trainer calls, per optimizer step:
 *
 * <pre>
 *   for each micro-batch:  loss = CE + sum(term.loss(ctx));  backward;  term.afterBackward(ctx)
 *   optimizer step;        term.afterOptimizerStep(ctx)
 * </pre>
 */
public interface LossTerm {
  /** Short name used in metrics.jsonl and error messages ("ewc", "kd", ...). */
  String name();

  /**
   * This micro-batch's contribution to the loss, already weighted, as a scalar tensor in the graph;
   * or null for none. Called inside the gradient collector and the step's scope.
   */
  NDArray loss(StepContext ctx);

  /**
   * {@code term.loss(ctx)} in a scope of its own, as the trainer calls it: whatever the term made that
   * autograd does not keep (a teacher's logits and layer outputs, a KL's intermediates, a penalty's
   * per-weight products) is freed as soon as the value exists, not at the step's end; the value moves
   * to the caller's scope. libtorch keeps what the backward needs by its own references, as with the
   * decoder's per-layer scopes.
   */
  static NDArray scopedLoss(LossTerm term, StepContext ctx) {
    NDArray v;
    NDScope scope = new NDScope();
    try {
      v = term.loss(ctx);
      if (v != null) {
        NDScope.unregister(v);
      }
    } finally {
      scope.close();
    }
    if (v != null) {
      NDScope.register(v);
    }
    return v;
  }

  /** After backward of a micro-batch, with gradients available (SI reads them). */
  default void afterBackward(StepContext ctx) {}

  /** After the optimizer updated the weights. */
  default void afterOptimizerStep(StepContext ctx) {}

  /** The set of trainable parameter names changed (a new stage). */
  default void onTrainableChanged(Set<String> trainable) {}

  /** Tensors to keep in checkpoints (flattened float32 by name), restored on resume. */
  default Map<String, float[]> state() {
    return Map.of();
  }

  default void restore(Map<String, float[]> state) {}

  /** One line for the run's parameter report, e.g. "EWC lambda=100 (Fisher from 200 sequences)". */
  default String describe() {
    return name();
  }
}
