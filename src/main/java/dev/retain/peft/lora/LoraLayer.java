package dev.retain.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.Linear;
import dev.retain.model.LinearAdapter;
import dev.retain.model.Parameter;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Ops;
import java.util.List;

/**
 * LoRA on one linear layer: the layer computes W x + b + scaling * B A dropout(x), with A [r, in]
 * and B [out, r] (PEFT's lora_A / lora_B) and W frozen.
 *
 * <p>Dropout acts only in training mode ({@link #setTraining}, off by default) and only when p > 0;
 * its mask is drawn by the engine's generator (seed it with {@code Backend.seed}) and scaled by
 * 1/(1-p), as torch.nn.Dropout. The scaling is a long-lived constant tensor ({@code Consts}), never a
 * Java scalar inside the graph.
 *
 * <p>While merged ({@link #merge}) the layer's weight already holds W + scaling B A and the adapter
 * reports itself disabled; switching it on or off then is refused, because either would silently
 * give the wrong function.
 */
public final class LoraLayer implements LinearAdapter {
  private final Linear base;
  private final int r;
  private final double alpha;
  private final boolean rslora;
  private final float scaling;
  private final double dropout;
  private final Parameter a;
  private final Parameter b;
  private boolean enabled = true;
  private boolean training;
  private boolean merged;

  LoraLayer(Linear base, int r, double alpha, boolean rslora, double dropout, Parameter a, Parameter b) {
    this.base = base;
    this.r = r;
    this.alpha = alpha;
    this.rslora = rslora;
    this.scaling = (float) LoraConfig.scaling(alpha, r, rslora);
    this.dropout = dropout;
    this.a = a;
    this.b = b;
  }

  /** The checkpoint name of lora_A of module {@code moduleName}, without PEFT's base_model.model. prefix. */
  public static String nameA(String moduleName) {
    return moduleName + ".lora_A.weight";
  }

  public static String nameB(String moduleName) {
    return moduleName + ".lora_B.weight";
  }

  @Override
  public NDArray delta(NDArray x) {
    return Ops.linear(down(x), b.data(), null);
  }

  /**
   * base + B down(x) as one addmm over the rows ([N, out] += [N, r] B^T): the matmul accumulates
   * into a copy of the base output, instead of writing the delta and adding it in a pass of its own
   * (about a quarter of LoRA's own cost on a 256-wide layer, forward and backward together).
   */
  @Override
  public NDArray output(NDArray x, NDArray base) {
    Shape outShape = base.getShape();
    long out = outShape.get(outShape.dimension() - 1);
    long in = x.getShape().get(x.getShape().dimension() - 1);
    NDArray down = down(x.reshape(-1, in));
    return Ops.linear(down, b.data(), base.reshape(-1, out)).reshape(outShape);
  }

  /** scaling * A dropout(x), the r-wide intermediate. */
  private NDArray down(NDArray x) {
    NDArray in = x;
    if (training && dropout > 0) {
      NDManager m = x.getManager();
      // The mask carries no gradient, so building it with scalar operations is safe.
      NDArray keep = m.randomUniform(0f, 1f, x.getShape(), DataType.FLOAT32).gte(dropout).toType(DataType.FLOAT32, false);
      in = x.mul(keep).mul(Consts.of((float) (1.0 / (1.0 - dropout))));
    }
    // The scaling multiplies the r-wide intermediate, not the out-wide result: the same product
    // (B is linear), out/r times fewer multiplications forward and backward.
    return Ops.linear(in, a.data(), null).mul(Consts.of(scaling));
  }

  /** scaling * B A [out, in], in the autograd graph. */
  @Override
  public NDArray deltaWeight() {
    return b.data().matMul(a.data()).mul(Consts.of(scaling));
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(a, b);
  }

  @Override
  public boolean enabled() {
    return enabled && !merged;
  }

  @Override
  public void setEnabled(boolean on) {
    if (merged) {
      throw new IllegalStateException(base.name + ": LoRA is merged into the weight; unmerge() before switching adapters "
          + (on ? "on" : "off"));
    }
    this.enabled = on;
  }

  public boolean training() {
    return training;
  }

  /** Training mode turns dropout on (when p > 0); evaluation and teacher passes should run with it off. */
  public void setTraining(boolean training) {
    this.training = training;
  }

  public boolean merged() {
    return merged;
  }

  /** The adapted layer. */
  public Linear base() {
    return base;
  }

  public String moduleName() {
    return base.name;
  }

  public Parameter loraA() {
    return a;
  }

  public Parameter loraB() {
    return b;
  }

  public int rank() {
    return r;
  }

  public double alpha() {
    return alpha;
  }

  public boolean rslora() {
    return rslora;
  }

  public double dropout() {
    return dropout;
  }

  /** alpha/r, or alpha/sqrt(r) with rsLoRA, as the float32 the forward pass uses. */
  public float scaling() {
    return scaling;
  }

  /** W += scaling * B A (outside the graph, on copies); the adapter then stops adding its delta. */
  void merge() {
    if (merged) {
      throw new IllegalStateException(base.name + ": LoRA is already merged");
    }
    replaceWeight(+1);
    merged = true;
  }

  /** W -= scaling * B A, restoring the base weight (within float rounding); the adapter works again. */
  void unmerge() {
    if (!merged) {
      throw new IllegalStateException(base.name + ": LoRA is not merged");
    }
    replaceWeight(-1);
    merged = false;
  }

  private void replaceWeight(int sign) {
    Parameter w = base.weight;
    NDManager owner = w.data().getManager();
    Shape ws = w.data().getShape();
    float[] merged;
    // Plain copies: no tensor here requires a gradient, so nothing is recorded and scalar ops are safe.
    try (NDManager tmp = owner.newSubManager()) {
      NDArray wa = tmp.create(a.data().toFloatArray(), a.data().getShape());
      NDArray wb = tmp.create(b.data().toFloatArray(), b.data().getShape());
      NDArray ww = tmp.create(w.data().toFloatArray(), ws);
      NDArray d = wb.matMul(wa).mul(scaling);
      merged = (sign > 0 ? ww.add(d) : ww.sub(d)).toFloatArray();
    }
    NDArray fresh = owner.create(merged, ws);
    NDScope.unregister(fresh);
    w.set(fresh);
  }
}
