package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Host;

/**
 * A named weight of the model, under its Hugging Face checkpoint name. Whether it trains is a flag
 * here, so freezing and unfreezing (stages, LoRA) is one mechanism: a frozen parameter gets no
 * gradient and no optimizer state.
 */
public final class Parameter {
  private final String name;
  private NDArray data;
  private boolean trainable;

  public Parameter(String name, NDArray data) {
    this.name = name;
    this.data = data;
  }

  /**
   * A parameter over a new tensor of {@code data} in {@code manager}, outside any step scope. The
   * values go into libtorch's own memory (not DJL's create, whose direct buffer waits for a garbage
   * collection), so a weight replaced or freed later gives its memory back at once.
   */
  public static Parameter of(NDManager manager, String name, float[] data, long... shape) {
    NDArray a = Host.of(manager, data, new Shape(shape));
    NDScope.unregister(a);
    return new Parameter(name, a);
  }

  public String name() {
    return name;
  }

  public NDArray data() {
    return data;
  }

  /** Replaces the tensor (same shape), closing the old one. */
  public void set(NDArray value) {
    if (!value.getShape().equals(data.getShape())) {
      throw new IllegalArgumentException(name + ": shape " + value.getShape() + " does not match " + data.getShape());
    }
    boolean t = trainable;
    NDArray old = data;
    data = value;
    if (old != value) {
      old.close();
    }
    trainable = false;
    setTrainable(t);
  }

  public boolean trainable() {
    return trainable;
  }

  public void setTrainable(boolean trainable) {
    if (this.trainable != trainable) {
      data.setRequiresGradient(trainable);
      this.trainable = trainable;
    }
  }

  public long numel() {
    return data.getShape().size();
  }
}
