package dev.retain.train;

import ai.djl.ndarray.NDArray;
import dev.retain.model.Parameter;
import dev.retain.tensor.Grads;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Global-norm gradient clipping as torch's clip_grad_norm_: one norm over every gradient, one scale. */
public final class GradClip {
  private GradClip() {}

  /** The gradients of the parameters the loss reached (handles closed with the caller's scope). */
  public static List<NDArray> gradients(Collection<Parameter> params) {
    List<NDArray> out = new ArrayList<>();
    for (Parameter p : params) {
      NDArray g = Grads.of(p.data());
      if (g != null) {
        out.add(g);
      }
    }
    return out;
  }

  /** The L2 norm over all the gradients together (non-finite when any element is). */
  public static double globalNorm(List<NDArray> grads) {
    double sq = 0;
    for (NDArray g : grads) {
      double n = g.norm().getFloat(); // one reduction, no temporary the size of g
      sq += n * n;
    }
    return Math.sqrt(sq);
  }

  /** Scales the gradients in place so that their global norm is at most {@code maxNorm} (0: off). */
  public static void clip(List<NDArray> grads, double norm, double maxNorm) {
    if (maxNorm > 0 && norm > maxNorm) {
      double scale = maxNorm / (norm + 1e-6);
      for (NDArray g : grads) {
        g.muli(scale);
      }
    }
  }
}
