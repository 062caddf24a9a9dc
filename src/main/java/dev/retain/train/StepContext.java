package dev.retain.train;

import ai.djl.ndarray.NDArray;
import dev.retain.data.Batch;
import dev.retain.model.CausalLM;
import dev.retain.model.PackedInputs;
import dev.retain.model.Parameter;
import java.util.Map;

/**
 * What a {@link LossTerm} sees of the current micro-batch: the model, the batch, its input tensors,
 * the student's logits at the target positions and the trainable parameters. Tensors live in the
 * step's scope. After the optimizer step (hooks that need no batch) batch, inputs and logits are null.
 */
public final class StepContext {
  public final long step;
  public final CausalLM model;
  public final Batch batch;
  /** The batch as the model's tensors, with its target positions. */
  public final PackedInputs inputs;
  /**
   * Student logits [N, vocab] at the N target positions of {@link #inputs} ({@link CausalLM#targetLogits}),
   * for {@link LossTerm#loss}; the trainer closes them before the backward, so later hooks must not read them.
   */
  public final NDArray logits;
  public final Map<String, Parameter> trainable;
  /** Learning rate of this step (after schedule). */
  public final double lr;

  public StepContext(long step, CausalLM model, Batch batch, PackedInputs inputs, NDArray logits,
                     Map<String, Parameter> trainable, double lr) {
    this.step = step;
    this.model = model;
    this.batch = batch;
    this.inputs = inputs;
    this.logits = logits;
    this.trainable = trainable;
    this.lr = lr;
  }

  /** The context of the hooks after an optimizer step: no batch. */
  public static StepContext afterStep(long step, CausalLM model, Map<String, Parameter> trainable, double lr) {
    return new StepContext(step, model, null, null, null, trainable, lr);
  }
}
