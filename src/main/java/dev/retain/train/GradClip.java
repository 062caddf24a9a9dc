package dev.retain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
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
    if (grads.isEmpty()) {
      return 0;
    }
    // One norm per tensor (no temporary the size of g), then the norm of those norms: one read back
    // to Java for the whole model instead of one per tensor.
    NDList norms = new NDList(grads.size());
    for (NDArray g : grads) {
      norms.add(g.norm());
    }
    return NDArrays.stack(norms).norm().getFloat();
  }

  /** Scales the gradients in place so that their global norm is at most {@code maxNorm} (0: off). */
  public static void clip(List<NDArray> grads, double norm, double maxNorm) {
    if (maxNorm > 0 && norm > maxNorm && !grads.isEmpty()) {
      // One 0-d tensor for every gradient (a Java scalar would become a new tensor per call); the
      // caller's scope closes it.
      NDArray scale = grads.get(0).getManager().create((float) (maxNorm / (norm + 1e-6)));
      for (NDArray g : grads) {
        g.muli(scale);
      }
    }
  }
}
