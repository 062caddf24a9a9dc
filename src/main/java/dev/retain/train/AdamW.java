package dev.retain.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.retain.model.Parameter;
import dev.retain.tensor.Grads;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleFunction;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * AdamW (Loshchilov and Hutter): Adam with bias correction and weight decay decoupled from the
 * gradient, applied as w <- w - lr * wd * w before the Adam step, exactly as torch.optim.AdamW:
 *
 * <pre>
 *   m = b1 m + (1 - b1) g        v = b2 v + (1 - b2) g^2
 *   w = w (1 - lr wd) - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 *
 * State exists only for parameters that are stepped: a frozen parameter costs nothing, and a
 * parameter unfrozen later starts with fresh moments (t = 0). Runs outside the autograd graph, so
 * scalar operations are safe here.
 *
 * <p>On the CPU the update is one Java loop over the memory of the weight, its gradient and its
 * moments (direct buffers, no copy): one pass instead of the 14 tensor operations libtorch needs
 * without {@code lerp_}/{@code addcdiv_} (which DJL does not expose), and no JNI call per operation,
 * which is most of the cost for LoRA's small matrices. It computes the same float32 operations in the
 * same order as the tensor path, which remains for tensors whose memory is not addressable (another
 * device, non-contiguous); the moments agree bit for bit and the weights within a few units in the
 * last place (libtorch's vector kernels round a few results differently).
 */
public final class AdamW {
  /** Per-parameter settings: learning-rate multiplier (parameter groups) and weight decay. */
  public record Group(double lrScale, double weightDecay) {}

  /** Moments and step count of one parameter. */
  public static final class State {
    final NDArray m;
    final NDArray v;
    long t;
    /** The weight tensor {@link #fused} was decided for (a parameter can be given a new tensor). */
    private NDArray weight;
    /** Whether weight and moments are CPU float32 memory the fused loop can read and write in place. */
    boolean fused;

    State(NDArray m, NDArray v, long t) {
      this.m = m;
      this.v = v;
      this.t = t;
    }

    /** Whether {@code w} can take the fused loop; probed once per weight tensor. */
    boolean fusedFor(NDArray w) {
      if (w != weight) {
        weight = w;
        fused = addressable(w) && addressable(m) && addressable(v);
      }
      return fused;
    }

    public NDArray m() {
      return m;
    }

    public NDArray v() {
      return v;
    }

    public long t() {
      return t;
    }
  }

  public final double beta1;
  public final double beta2;
  public final double eps;
  private final Map<String, State> state = new LinkedHashMap<>();

  public AdamW(double beta1, double beta2, double eps) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
  }

  /** Whether weight decay applies by default: to matrices, not to norms (1-D tensors) and biases. */
  public static boolean decays(String name, Parameter p) {
    return p.data().getShape().dimension() > 1 && !name.endsWith(".bias");
  }

  /**
   * One update of every parameter of {@code params} that has a gradient, at learning rate {@code lr},
   * with each parameter's {@link Group}.
   *
   * <p>On the tensor path the scalars of the update (beta1, 1 - beta2, the decay and step factors) are
   * made once per call as 0-d tensors and shared by every tensor's in-place operations: a Java scalar
   * would be wrapped in a fresh tensor by every operation (six per parameter). Outside a graph freshly
   * made scalars are safe; they are closed after.
   */
  public void step(Map<String, Parameter> params, double lr, Function<String, Group> groupOf) {
    try (NDScope scalarsScope = new NDScope()) {
      scalarsScope.suppressNotUsedWarning();
      Map<Float, NDArray> scalars = new HashMap<>();
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray g = Grads.of(e.getValue().data());
        if (g != null) {
          update(e.getValue(), g, lr, groupOf.apply(e.getKey()), scalars);
        }
      }
    }
  }

  /** One update of {@code p} with gradient {@code g} at learning rate {@code lr}. */
  public void step(Parameter p, NDArray g, double lr, Group group) {
    try (NDScope scalarsScope = new NDScope()) {
      scalarsScope.suppressNotUsedWarning();
      update(p, g, lr, group, new HashMap<>());
    }
  }

  private void update(Parameter p, NDArray g, double lr, Group group, Map<Float, NDArray> scalars) {
    State s = state.computeIfAbsent(p.name(), k -> fresh(p));
    s.t++;
    double rate = lr * group.lrScale();
    NDArray w = p.data();
    double bc1 = 1 - Math.pow(beta1, s.t);
    double bc2 = 1 - Math.pow(beta2, s.t);
    // The update's scalars, rounded to float32 once, for both paths.
    float b1 = (float) beta1;
    float b2 = (float) beta2;
    float oneMinusB2 = (float) (1 - beta2);
    float decay = (float) (1 - rate * group.weightDecay());
    float sqrtBc2 = (float) Math.sqrt(bc2);
    float epsilon = (float) eps;
    float stepSize = (float) (rate / bc1);
    boolean decays = group.weightDecay() != 0;
    if (s.fusedFor(w) && g.getDevice().equals(Device.cpu()) && g.getDataType() == DataType.FLOAT32) {
      // A non-contiguous gradient is read through a copy, closed here.
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        FloatBuffer wb = floats(w);
        FloatBuffer gb = floats(g);
        FloatBuffer mb = floats(s.m);
        FloatBuffer vb = floats(s.v);
        int n = wb.capacity();
        if (gb.capacity() != n) {
          throw new IllegalArgumentException("AdamW: gradient of " + p.name() + " has " + gb.capacity() + " elements, the weight " + n);
        }
        IntConsumer chunk = c -> {
          int end = Math.min(n, (c + 1) * CHUNK);
          for (int i = c * CHUNK; i < end; i++) {
            float gi = gb.get(i);
            float mi = (mb.get(i) - gi) * b1 + gi; // beta1 m + (1 - beta1) g
            float vi = vb.get(i) * b2 + gi * gi * oneMinusB2;
            float wi = decays ? wb.get(i) * decay : wb.get(i);
            float denom = (float) Math.sqrt(vi) / sqrtBc2 + epsilon;
            mb.put(i, mi);
            vb.put(i, vi);
            wb.put(i, wi - mi / denom * stepSize);
          }
        };
        int chunks = (n + CHUNK - 1) / CHUNK;
        if (chunks == 1 || POOL.getParallelism() == 1) {
          IntStream.range(0, chunks).forEach(chunk);
        } else {
          POOL.submit(() -> IntStream.range(0, chunks).parallel().forEach(chunk)).join();
        }
      }
      return;
    }
    DoubleFunction<NDArray> c = x -> scalars.computeIfAbsent((float) x, f -> w.getManager().create(f));
    // One scope per tensor frees this update's temporaries before the next tensor's are made: the
    // allocator reuses warm memory (measured 20-35% faster than holding all to the step's end). Three
    // temporaries the size of the tensor (g^2, the denominator, the update), as torch's AdamW.
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      s.m.subi(g).muli(c.apply(b1)).addi(g); // m = beta1 m + (1 - beta1) g, in place
      s.v.muli(c.apply(b2)).addi(g.square().muli(c.apply(oneMinusB2)));
      if (decays) {
        w.muli(c.apply(decay));
      }
      // w -= rate / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
      NDArray denom = s.v.sqrt().divi(c.apply(sqrtBc2)).addi(c.apply(epsilon));
      w.subi(s.m.div(denom).muli(c.apply(stepSize)));
    }
  }

  /** Elements per task of the fused loop; a tensor of one chunk runs on the calling thread. */
  private static final int CHUNK = 1 << 16;
  /** The fused loop's threads: as many as libtorch's intra-op threads, so a thread setting holds for both. */
  private static final ForkJoinPool POOL = new ForkJoinPool(
      Math.max(1, Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors())));

  /** The tensor's own memory as floats (a view, not a copy, for the tensors {@link #addressable} accepts). */
  private static FloatBuffer floats(NDArray x) {
    return x.toByteBuffer(true).asFloatBuffer();
  }

  /**
   * Whether {@code x}'s memory can be written through {@link #floats}: a CPU float32 tensor whose
   * direct buffer is its storage. DJL hands a copy instead for a non-contiguous tensor, so two buffers
   * are taken and a write through one must show through the other (the value is put back).
   */
  static boolean addressable(NDArray x) {
    // DJL's direct buffer is limited to 2 GiB; larger tensors take the tensor path.
    if (!x.getDevice().equals(Device.cpu()) || x.getDataType() != DataType.FLOAT32 || x.size() == 0
        || x.size() > Integer.MAX_VALUE / 4) {
      return false;
    }
    try (NDScope scope = new NDScope()) { // closes the copies DJL makes of a non-contiguous tensor
      scope.suppressNotUsedWarning();
      ByteBuffer a = x.toByteBuffer(true);
      ByteBuffer b = x.toByteBuffer(true);
      if (!a.isDirect() || !b.isDirect() || a.capacity() != x.size() * 4) {
        return false;
      }
      int old = a.getInt(0);
      a.putInt(0, ~old);
      boolean alias = b.getInt(0) == ~old;
      a.putInt(0, old);
      return alias;
    }
  }

  private static State fresh(Parameter p) {
    NDArray m = p.data().zerosLike();
    NDArray v = p.data().zerosLike();
    m.setRequiresGradient(false);
    NDScope.unregister(m, v);
    return new State(m, v, 0);
  }

  /** Drops the moments of parameters no longer trained (they restart fresh if unfrozen again). */
  public void forget(String name) {
    State s = state.remove(name);
    if (s != null) {
      s.m.close();
      s.v.close();
    }
  }

  public Map<String, State> state() {
    return state;
  }

  /** Restores one parameter's moments (from a checkpoint). */
  public void restore(Parameter p, float[] m, float[] v, long t) {
    forget(p.name());
    State s = fresh(p);
    s.m.set(m);
    s.v.set(v);
    s.t = t;
    state.put(p.name(), s);
  }

  /** Bytes of optimizer state (two float32 moments per stepped element). */
  public long stateBytes() {
    return state.values().stream().mapToLong(s -> s.m.getShape().size() * 8).sum();
  }
}
