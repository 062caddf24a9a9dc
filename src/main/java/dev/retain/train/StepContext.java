package dev.retain.train;

import ai.djl.ndarray.NDArray;
import dev.retain.data.Batch;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import java.util.Map;

/**
 * What a {@link LossTerm} sees of the current micro-batch: the model, the batch, its input tensors,
 * the student's logits and the trainable parameters. Tensors live in the step's scope.
 */
public final class StepContext {
  public final long step;
  public final CausalLM model;
  public final Batch batch;
  public final NDArray inputIds;
  public final NDArray positions;
  public final NDArray mask;
  /** Student logits [rows, seqLen, vocab]. */
  public final NDArray logits;
  /** Per-token weights [rows, seqLen]: 1/targetCount at target positions, 0 elsewhere. */
  public final NDArray targetWeights;
  public final Map<String, Parameter> trainable;
  /** Learning rate of this step (after schedule). */
  public final double lr;

  public StepContext(long step, CausalLM model, Batch batch, NDArray inputIds, NDArray positions, NDArray mask,
                     NDArray logits, NDArray targetWeights, Map<String, Parameter> trainable, double lr) {
    this.step = step;
    this.model = model;
    this.batch = batch;
    this.inputIds = inputIds;
    this.positions = positions;
    this.mask = mask;
    this.logits = logits;
    this.targetWeights = targetWeights;
    this.trainable = trainable;
    this.lr = lr;
  }
}
