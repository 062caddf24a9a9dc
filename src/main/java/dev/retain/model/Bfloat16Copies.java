package dev.retain.model;

import ai.djl.ndarray.NDArray;
import dev.retain.tensor.Bfloat16;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * bfloat16 copies of a model's linear weights (every decoder projection and the head) for passes
 * whose linear weights do not train: inside {@link #run} the model's linear layers multiply by the
 * copies, everything else (embedding, norms, rotary attention, SwiGLU, adapters) stays float32. Two
 * uses: a distillation teacher (no autograd), and the frozen base under adapters while they train
 * (training.base_precision; with autograd, the gradient reaches each layer's input, never the copy).
 * The copies are taken once, from the weights as they are when this is built, and hold half the
 * memory of those weights in float32. {@link #of} keeps them next to the float32 weights and
 * switches per pass; {@link #replacing} makes them a frozen model's only linear weights.
 *
 * <p>A distillation teacher only ranks the next token; in bfloat16 its logits move by 0.4-0.7% of the
 * largest logit (the test models and retain-base; Bfloat16CopiesTest holds it under 0.8%). That is why
 * this is an option and float32 the default: with it, the KL to a student equal to the teacher is
 * small but not zero.
 */
public final class Bfloat16Copies implements AutoCloseable {
  private final CausalLM model;
  private final Bfloat16 kernel;
  private final Map<Linear, Bfloat16.Weight> copies = new LinkedHashMap<>();
  private final Map<Linear, NDArray> copiedFrom = new LinkedHashMap<>(); // the float32 tensor each copy was taken from
  private boolean on;
  private boolean replacing; // the copies stand in for the float32 weights for good

  private Bfloat16Copies(CausalLM model) {
    this.model = model;
    kernel = new Bfloat16(model.manager());
    try {
      for (Linear lin : model.linearsWithHead()) {
        copies.put(lin, kernel.keep(lin.weight.data()));
        copiedFrom.put(lin, lin.weight.data());
      }
    } catch (RuntimeException e) {
      kernel.close();
      throw e;
    }
  }

  /** Copies every linear weight of {@code model} (the head included) to bfloat16 now. */
  public static Bfloat16Copies of(CausalLM model) {
    return new Bfloat16Copies(model);
  }

  /**
   * bfloat16 copies of a frozen model that only ever runs without gradients (full fine-tuning's
   * distillation teacher, a copy of the starting model): its linear layers run on the copies from now
   * on and their float32 weights are freed, so its linear layers take half the memory of float32
   * instead of one and a half times. A tied head's weight stays: the embedding lookup reads it.
   */
  public static Bfloat16Copies replacing(CausalLM frozen) {
    for (Parameter p : frozen.allParameters().values()) {
      if (p.trainable()) {
        throw new IllegalArgumentException("bfloat16 copies can replace the weights of a frozen model only; "
            + p.name() + " trains");
      }
    }
    for (Linear lin : frozen.linearsWithHead()) {
      if (lin.adapter() != null) {
        throw new IllegalArgumentException("bfloat16 copies can replace the weights of a model without adapters only; "
            + lin.name + " has one");
      }
    }
    Bfloat16Copies c = new Bfloat16Copies(frozen);
    c.replacing = true;
    c.copies.forEach((lin, copy) -> {
      lin.useBfloat16(copy);
      if (lin.weight != frozen.embedTokens) {
        lin.releaseWeight();
      }
    });
    return c;
  }

  /**
   * Runs {@code pass} with the model's linear layers on the bfloat16 copies, then back on float32.
   * Refuses copies that no longer stand for their weights: a weight that trains (its copy gets no
   * gradient and does not follow the updates, whether the pass records or is a teacher's), or one
   * replaced since its copy was taken (a LoRA merge writes W + BA into a new tensor and switches the
   * adapter off: on the stale copy its delta would silently vanish).
   */
  public <T> T run(Supplier<T> pass) {
    if (on) {
      return pass.get();
    }
    copiedFrom.forEach((lin, from) -> {
      if (lin.weight.trainable()) {
        throw new IllegalStateException(lin.name + ": its weight trains, but the pass would run on a bfloat16 copy taken "
            + "once, which gets no gradient; bfloat16 copies are for frozen weights only (use float32 here)");
      }
      if (!replacing && lin.weight.data() != from) {
        throw new IllegalStateException(lin.name + ": its weight was replaced after its bfloat16 copy was taken (a merged "
            + "adapter, or new weights); make new copies");
      }
    });
    if (replacing) {
      return pass.get();
    }
    on = true;
    copies.forEach(Linear::useBfloat16);
    try {
      return pass.get();
    } finally {
      copies.keySet().forEach(lin -> lin.useBfloat16(null));
      on = false;
    }
  }

  /** {@code pass} on {@code copies}, or as it is when there are none (null): float32. */
  public static <T> T run(Bfloat16Copies copies, Supplier<T> pass) {
    return copies == null ? pass.get() : copies.run(pass);
  }

  /** The model whose weights were copied. */
  public CausalLM model() {
    return model;
  }

  /** The number of weights copied. */
  public int size() {
    return copies.size();
  }

  @Override
  public void close() {
    copies.keySet().forEach(lin -> lin.useBfloat16(null)); // no linear layer points into a closed module
    kernel.close();
  }
}
