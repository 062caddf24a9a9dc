package dev.retain.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * Composite operations that libtorch has but DJL does not expose (RMSNorm, SiLU, cross-entropy,
 * attention), written only with tensor-tensor operations so that they are safe inside the autograd
 * graph. Every model, adapter and loss in retain goes through these.
 */
public final class Ops {
  private Ops() {}

  /** y = x W^T + b, the layout of Hugging Face's nn.Linear (W is [out, in]); bias may be null. */
  public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
  }

  /** Rows of {@code weight} [vocab, dim] picked by the int64 ids; the gradient reaches only used rows. */
  public static NDArray embedding(NDArray ids, NDArray weight) {
    NDList out = ids.getNDArrayInternal().embedding(ids, weight, SparseFormat.DENSE);
    return out.singletonOrThrow();
  }

  /** silu(x) = x * sigmoid(x). */
  public static NDArray silu(NDArray x) {
    return x.mul(x.getNDArrayInternal().sigmoid());
  }

  /**
   * RMSNorm as Hugging Face's LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight, statistics over the
   * last axis, in float32. The reciprocal root is taken on the [.., 1] statistics and then multiplied
   * in: a division by the full-size tensor would cost two more full-size operations in the backward.
   */
  public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    NDArray variance = x.square().mean(new int[] {-1}, true);
    NDArray invRms = variance.add(Consts.of(eps)).pow(Consts.of(-0.5f));
    return x.mul(invRms).mul(weight);
  }

  /**
   * Rotary position embedding x * cos + rotate_half(x) * sin on x [B, H, T, D], where Hugging Face's
   * rotate_half(x) = (-x2, x1) on the two halves of the last axis. The sign lives in the table:
   * {@code sinSigned} is (-sin, sin) on the two halves, so rotate_half(x) * sin = (x2, x1) * sinSigned
   * and no negation is computed per call. cos and sinSigned broadcast to x.
   */
  public static NDArray rope(NDArray x, NDArray cos, NDArray sinSigned) {
    int last = x.getShape().dimension() - 1;
    NDList halves = x.split(2, last);
    NDArray swapped = halves.get(1).concat(halves.get(0), -1);
    return x.mul(cos).add(swapped.mul(sinSigned));
  }

  /**
   * Scaled dot-product attention: softmax(q k^T * scale + mask) v, with q [B,H,T,D], k and v
   * [B,H,S,D] and an additive mask broadcastable to [B,H,T,S] (null for none). Softmax in float32.
   * A scale of 1 skips the multiplication (for a q that arrives scaled already, see CausalLM).
   */
  public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, float scale) {
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2));
    if (scale != 1f) {
      scores = scores.mul(Consts.of(scale));
    }
    if (mask != null) {
      scores = scores.add(mask);
    }
    return scores.softmax(-1).matMul(v);
  }

  /** Repeats each of the KV heads of x [B, KVH, S, D] nRep times: [B, KVH*nRep, S, D] (GQA). */
  public static NDArray repeatKv(NDArray x, int nRep) {
    if (nRep == 1) {
      return x;
    }
    Shape s = x.getShape();
    return x.expandDims(2)
        .repeat(2, nRep)
        .reshape(s.get(0), s.get(1) * nRep, s.get(2), s.get(3));
  }

  /**
   * Per-token cross-entropy -log softmax(logits)[target], logits [..., V] and int64 targets [...].
   * Returns a tensor of the targets' shape.
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets) {
    NDArray logp = logits.logSoftmax(-1);
    NDArray idx = targets.toType(DataType.INT64, false).expandDims(-1);
    return logp.gather(idx, -1).squeeze(-1).neg();
  }
}
