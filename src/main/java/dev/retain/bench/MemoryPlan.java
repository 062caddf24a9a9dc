package dev.retain.bench;

import ai.djl.ndarray.types.Shape;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Peak resident memory of a retain training step (float32, one micro-batch of {@code batch} rows of
 * {@code seq} tokens), as the sum of its parts:
 *
 * <pre>
 *   peak = runtime + weights + gradients + AdamW moments + step tensors + backward + allocator slack
 * </pre>
 *
 * <ul>
 *   <li><b>runtime</b>: the JVM and libtorch after start-up (measured once: {@link #DEFAULT_RUNTIME_BYTES}
 *       on this machine's JDK 17 and DJL 0.36) plus the Java heap left by building the model
 *       (measured: about 2 bytes per parameter; the weights pass through float[] on the heap; at
 *       most the launcher's -Xmx of 8 GiB).
 *   <li><b>weights</b>: 4 bytes per parameter, base and adapters.
 *   <li><b>gradients</b> and <b>AdamW moments</b>: 4 and 8 bytes per trainable parameter (full: every
 *       weight; LoRA: only A and B).
 *   <li><b>step tensors</b>: every tensor the forward pass and the loss create. retain runs a step in
 *       one NDScope, so DJL holds each of them until the step ends, not only those autograd saves for
 *       backward. Counted op by op from {@code CausalLM.forward} (see {@link #layerElements}): per
 *       layer 24 BT d + 4 B H T T + 5 BT F elements without LoRA (no GQA, qd = d), plus the
 *       embedding, RoPE tables, mask, final norm, logits and log-softmax (2 BT V).
 *   <li><b>backward</b>: what lives only during backward: the three contiguous copies that matmul
 *       makes of q, k^T and v per layer (non-contiguous after RoPE and the head transpose) and that
 *       the batched matmul saves, plus the two BT V gradients of log-softmax at the head.
 *   <li>the optimizer adds nothing: on the CPU AdamW updates weights and moments in place in one
 *       loop (no temporaries; its tensor path, for memory it cannot address, makes three of one tensor
 *       at a time), and the gradient norm makes none.
 *   <li><b>allocator slack</b>: glibc's heap fragments as the same tensors are freed and allocated
 *       again step after step; the peak grows over the first few steps and then stays flat. Measured
 *       on base and 25m at batch 4 to 16: 6% to 24% (once 41%) of step tensors + transient, typically
 *       15%, which is the allowance used ({@link #ALLOCATOR_SLACK}). This is the one empirical term;
 *       the first step's peak matches the other terms alone within 1%.
 * </ul>
 *
 * Checked against the measured peak resident memory of {@code retain bench} (see BENCHMARKS.md).
 */
public final class MemoryPlan {
  /** JVM (-Xmx8g, G1) + libtorch 2.7.1 resident after start and one op, measured on the bench machine. */
  public static final long DEFAULT_RUNTIME_BYTES = 180L << 20;
  /** Java heap left resident by building or loading the model, bytes per parameter (measured 1.9 to 2.6). */
  public static final long HEAP_BYTES_PER_PARAM = 2;
  /** The heap cannot outgrow -Xmx: the launcher's default 8 GiB caps that term for large models. */
  public static final long MAX_HEAP_BYTES = 8L << 30;
  /** Allocator fragmentation, as a share of the step's tensors plus the transient (measured, see above). */
  public static final double ALLOCATOR_SLACK = 0.15;
  static final long F32 = 4;

  /** One line of the plan. */
  public record Item(String name, long bytes, String how) {}

  public enum Mode { FULL, LORA }

  private final ModelConfig config;
  private final Mode mode;
  private final int r;
  private final Set<String> targets;
  private final int batch;
  private final int seq;
  private final List<Item> items = new ArrayList<>();
  private final long params;
  private final long trainableParams;

  private MemoryPlan(ModelConfig c, Mode mode, int r, Set<String> targets, int batch, int seq, long runtimeBytes) {
    this.config = c;
    this.mode = mode;
    this.r = r;
    this.targets = mode == Mode.LORA ? new LinkedHashSet<>(targets) : Set.of();
    this.batch = batch;
    this.seq = seq;
    long base = baseParams(c);
    long lora = mode == Mode.LORA ? Flops.loraParams(c, r, targets) : 0;
    params = base + lora;
    trainableParams = mode == Mode.LORA ? lora : base;
    items.add(new Item("runtime", runtimeBytes + Math.min(MAX_HEAP_BYTES, HEAP_BYTES_PER_PARAM * base),
        "JVM + libtorch (measured) + Java heap left by loading (2 B x params, at most -Xmx8g)"));
    items.add(new Item("weights", F32 * params, "4 B x " + params + " parameters"));
    items.add(new Item("gradients", F32 * trainableParams, "4 B x " + trainableParams + " trainable"));
    items.add(new Item("adamw", 2 * F32 * trainableParams, "8 B x " + trainableParams + " trainable (m, v)"));
    long activations = F32 * stepElements();
    items.add(new Item("activations", activations, "every tensor of the forward pass and loss, held to the step's end"));
    long backward = F32 * backwardElements();
    items.add(new Item("backward", backward, "matmul copies of q, k^T, v saved for backward + 2 B T V logit gradients"));
    items.add(new Item("allocator", Math.round(ALLOCATOR_SLACK * (activations + backward)),
        "glibc heap fragmentation over steps, 15% of activations + transient (measured)"));
  }

  /** Full fine-tuning. */
  public static MemoryPlan full(ModelConfig c, int batch, int seq, long runtimeBytes) {
    return new MemoryPlan(c, Mode.FULL, 0, Set.of(), batch, seq, runtimeBytes);
  }

  /** LoRA of rank r on the projections named by {@code targets} (short names, e.g. q_proj). */
  public static MemoryPlan lora(ModelConfig c, int r, Set<String> targets, int batch, int seq, long runtimeBytes) {
    return new MemoryPlan(c, Mode.LORA, r, targets, batch, seq, runtimeBytes);
  }

  /** Base parameters: every tensor the config implies (tied head counted once). */
  public static long baseParams(ModelConfig c) {
    return ModelLoader.expectedShapes(c).values().stream().mapToLong(s -> new Shape(s).size()).sum();
  }

  /**
   * Float elements of the tensors one decoder layer's forward creates, by op, in CausalLM.forward order
   * (views: reshape of contiguous, transpose, split, expandDims create none):
   *
   * <pre>
   *   rmsNorm           x^2, x*inv, *w: 3 BT d (+ mean, +eps, ^-1/2: 3 BT)
   *   q, k, v           BT (qd + 2 kvd)
   *   RoPE on q and k   x*cos, swapped halves, *sin, +: 4 BT qd + 4 BT kvd
   *   repeatKv (GQA)    2 BT qd when kv heads &lt; heads
   *   attention         scores, +mask, softmax: 3 B H T T (the scale rides on q's tables); P v and the
   *                     [B,T,H*D] copy: 2 BT qd
   *   o_proj, residual  2 BT d
   *   rmsNorm           3 BT d (+ 3 BT)
   *   SwiGLU            gate, sigmoid, gate*sigmoid, up, product: 5 BT F
   *   down, residual    2 BT d
   *   LoRA per adapted  A x, *scaling: 2 BT r; B(..), +: 2 BT out
   * </pre>
   */
  public long layerElements() {
    ModelConfig c = config;
    long bt = (long) batch * seq;
    long d = c.hiddenSize;
    long qd = (long) c.numHeads * c.headDim;
    long kvd = (long) c.numKvHeads * c.headDim;
    long f = c.intermediateSize;
    long scores = (long) batch * c.numHeads * seq * seq;
    long n = 0;
    n += 2 * (3 * bt * d + 3 * bt); // two RMSNorms
    n += bt * (qd + 2 * kvd); // q, k, v projections
    n += 4 * bt * qd + 4 * bt * kvd; // RoPE on q and k
    if (c.numKvHeads < c.numHeads) {
      n += 2 * bt * qd; // k and v repeated to every query head
    }
    n += 3 * scores + 2 * bt * qd; // attention
    n += 2 * bt * d; // o_proj + residual
    n += 5 * bt * f; // SwiGLU
    n += 2 * bt * d; // down_proj + residual
    for (String m : targets) {
      n += 2 * bt * r + 2 * bt * Flops.out(c, m);
    }
    return n;
  }

  /** Elements of every tensor of the step's forward pass and loss, held until the step's scope closes. */
  public long stepElements() {
    ModelConfig c = config;
    long bt = (long) batch * seq;
    long d = c.hiddenSize;
    long v = c.vocabSize;
    long n = layerElements() * c.numLayers;
    n += bt * d; // embedding
    n += 4L * bt * c.headDim; // cos, sin looked up for the positions, and q's scaled copies
    n += (long) batch * seq * seq; // packed causal mask [B, 1, T, T]
    n += 3 * bt * 2 + bt; // ids, positions, targets (int64 = 2 floats) and target weights
    n += 3 * bt * d + 3 * bt; // final RMSNorm
    n += 2 * bt * v; // logits, log-softmax
    n += 4 * bt; // gather, neg, * weights
    return n;
  }

  /** Elements alive only during backward: the saved matmul copies (all layers) and the head's two BT V gradients. */
  public long backwardElements() {
    ModelConfig c = config;
    long bt = (long) batch * seq;
    long qd = (long) c.numHeads * c.headDim;
    long copies = 2 * bt * qd + (c.numKvHeads < c.numHeads ? 0 : bt * qd);
    return copies * c.numLayers + 2 * bt * c.vocabSize;
  }

  public List<Item> items() {
    return List.copyOf(items);
  }

  /** Estimated peak resident bytes. */
  public long total() {
    return items.stream().mapToLong(Item::bytes).sum();
  }

  public Mode mode() {
    return mode;
  }

  public long params() {
    return params;
  }

  public long trainableParams() {
    return trainableParams;
  }

  /** Bytes of gradients plus optimizer moments (the LoRA-vs-full state comparison). */
  public long gradientAndOptimizerBytes() {
    return 3 * F32 * trainableParams;
  }

  /** The part of a plan's bytes named {@code name}, 0 if absent. */
  public long bytes(String name) {
    return items.stream().filter(i -> i.name().equals(name)).mapToLong(Item::bytes).sum();
  }

  public int batch() {
    return batch;
  }

  public int seq() {
    return seq;
  }
}
