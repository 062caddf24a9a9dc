package dev.retain.bench;

import ai.djl.ndarray.types.Shape;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Peak resident memory of a retain training step (float32, one micro-batch of {@code batch} rows of
 * {@code seq} tokens), as the sum of its parts:
 *
 * <pre>
 *   peak = runtime + weights + gradients + AdamW moments + activations + backward + allocator slack
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
 *   <li><b>activations</b>: what is alive when the backward starts, the step's peak. Each decoder
 *       layer runs in its own NDScope, so of a layer's tensors only those autograd saves for the
 *       backward outlive it ({@link #layerSavedElements}, which depends on what trains); the step's
 *       scope holds the rest to the step's end: the embedding and every layer's output, RoPE tables,
 *       mask, and at the N positions that carry loss the final norm and log-softmax (the raw logits
 *       close once the loss terms have read them)
 *       ({@link #heldElements}; N = B T unless {@link #withTargetPositions} says fewer).
 *   <li><b>backward</b>: the two N V gradients of log-softmax at the head (N target positions), the
 *       backward's first and largest temporaries; from there on it frees saved tensors as fast as it
 *       makes gradients.
 *   <li>the optimizer adds nothing: on the CPU AdamW updates weights and moments in place in one
 *       loop (no temporaries; its tensor path, for memory it cannot address, makes three of one tensor
 *       at a time), and the gradient norm makes none.
 *   <li><b>allocator slack</b>: memory the allocator holds beyond the live tensors, as a share of
 *       activations + backward. The one empirical term ({@link Allocator}): a step frees each layer's
 *       temporaries while the next layer allocates, and how well the holes are reused depends on the
 *       allocator the launcher picked. With every allocation returned at once
 *       (MALLOC_MMAP_THRESHOLD_=65536, far too slow to train with) the measured peak is the other
 *       terms within 4%.
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
  /**
   * The native allocator a run uses, as the launcher picks it (RETAIN_MALLOC), and what it holds beyond
   * the live tensors at the peak, as a share of activations + backward. Measured with retain bench
   * (full fine-tuning, LoRA q,v and LoRA all-linear on base and 25m at batch 16, and on base at batch 4
   * and 8 with glibc; BENCHMARKS.md, "Memory planner"): tcmalloc 13% to 31%, glibc with the
   * launcher's settings 57% to 101% (glibc's own defaults, taken as glibc too: 49% to 70% on base).
   */
  public enum Allocator {
    TCMALLOC("tcmalloc", 0.22),
    GLIBC("glibc", 0.78);

    public final String label;
    public final double slack;

    Allocator(String label, double slack) {
      this.label = label;
      this.slack = slack;
    }

    /** tcmalloc when this process runs with it preloaded (the launcher's default when installed), else glibc. */
    public static Allocator current() {
      String preload = System.getenv("LD_PRELOAD");
      return preload != null && preload.contains("tcmalloc") ? TCMALLOC : GLIBC;
    }
  }
  static final long F32 = 4;
  /** The projections that read the first RMSNorm's output, at every position also in the last layer. */
  private static final Set<String> QKV = Set.of("q_proj", "k_proj", "v_proj");

  /** One line of the plan. */
  public record Item(String name, long bytes, String how) {}

  public enum Mode { FULL, LORA }

  private final ModelConfig config;
  private final Mode mode;
  private final int r;
  private final Set<String> targets;
  private final int batch;
  private final int seq;
  private final long targetPositions;
  private final long runtimeBytes;
  private final List<Item> items = new ArrayList<>();
  private final long params;
  private final long trainableParams;
  private final Allocator allocator;
  private final boolean bfloat16Base;

  private MemoryPlan(ModelConfig c, Mode mode, int r, Set<String> targets, int batch, int seq, long targetPositions,
      long runtimeBytes, Allocator allocator, boolean bfloat16Base) {
    if (targetPositions < 0 || targetPositions > (long) batch * seq) {
      throw new IllegalArgumentException("target positions must be 0.." + (long) batch * seq + ", got " + targetPositions);
    }
    this.config = c;
    this.targetPositions = targetPositions;
    this.runtimeBytes = runtimeBytes;
    this.allocator = allocator;
    this.bfloat16Base = bfloat16Base;
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
    if (bfloat16Base) {
      long copied = Flops.matmulParams(c);
      items.add(new Item("bfloat16 copies", 2 * copied, "2 B x " + copied + " weights of the projections and the head"));
    }
    items.add(new Item("gradients", F32 * trainableParams, "4 B x " + trainableParams + " trainable"));
    items.add(new Item("adamw", 2 * F32 * trainableParams, "8 B x " + trainableParams + " trainable (m, v)"));
    long activations = F32 * stepElements();
    items.add(new Item("activations", activations, "what autograd saves per layer + what the step holds (layer outputs, logits)"));
    long backward = F32 * backwardElements();
    items.add(new Item("backward", backward, "2 N V logit gradients at the start of the backward (N target positions)"));
    items.add(new Item("allocator", Math.round(allocator.slack * (activations + backward)),
        String.format(Locale.ROOT, "%s: %.0f%% of activations + backward (measured)", allocator.label,
            100 * allocator.slack)));
  }

  /** Full fine-tuning, with the allocator this process runs with. */
  public static MemoryPlan full(ModelConfig c, int batch, int seq, long runtimeBytes) {
    return full(c, batch, seq, runtimeBytes, Allocator.current());
  }

  public static MemoryPlan full(ModelConfig c, int batch, int seq, long runtimeBytes, Allocator allocator) {
    return new MemoryPlan(c, Mode.FULL, 0, Set.of(), batch, seq, (long) batch * seq, runtimeBytes, allocator, false);
  }

  /** LoRA of rank r on the projections named by {@code targets} (short names, e.g. q_proj), with this process's allocator. */
  public static MemoryPlan lora(ModelConfig c, int r, Set<String> targets, int batch, int seq, long runtimeBytes) {
    return lora(c, r, targets, batch, seq, runtimeBytes, Allocator.current());
  }

  public static MemoryPlan lora(ModelConfig c, int r, Set<String> targets, int batch, int seq, long runtimeBytes,
      Allocator allocator) {
    return new MemoryPlan(c, Mode.LORA, r, targets, batch, seq, (long) batch * seq, runtimeBytes, allocator, false);
  }

  /**
   * The same plan for a step whose loss is taken at {@code n} of its B x T positions (the head, its
   * log-softmax and their gradients run only there, {@code CausalLM.targetLogits}); the factories
   * assume every position, the upper bound. Prompt/completion data has far fewer.
   */
  public MemoryPlan withTargetPositions(long n) {
    return new MemoryPlan(config, mode, r, targets, batch, seq, n, runtimeBytes, allocator, bfloat16Base);
  }

  /**
   * The same LoRA plan with the frozen base's linear layers on bfloat16 copies (training.base_precision:
   * bfloat16): the copies come on top of the float32 weights, which saving and merging still read. The
   * activations stay: a frozen product saves no input either way, and LoRA's A still saves its input.
   */
  public MemoryPlan withBfloat16Base() {
    if (mode != Mode.LORA) {
      throw new IllegalArgumentException("a bfloat16 base is for adapters on a frozen base, not full fine-tuning");
    }
    return new MemoryPlan(config, mode, r, targets, batch, seq, targetPositions, runtimeBytes, allocator, true);
  }

  /** Positions per step that carry loss (N). */
  public long targetPositions() {
    return targetPositions;
  }

  /** Base parameters: every tensor the config implies (tied head counted once). */
  public static long baseParams(ModelConfig c) {
    return ModelLoader.expectedShapes(c).values().stream().mapToLong(s -> new Shape(s).size()).sum();
  }

  /**
   * Float elements autograd keeps from one decoder layer for the backward once the layer's scope has
   * closed, in CausalLM.forward order. libtorch saves an operand only when the gradient it feeds is
   * needed (a product saves x for a weight's gradient only when that weight trains), so what stays
   * depends on what trains:
   *
   * <pre>
   *   RMSNorm (each)    inv-rms statistics: 2 BT; x * inv-rms: BT d when the norm weight trains (full);
   *                     the normed output: BT d when a projection reading it saves its input (full,
   *                     or LoRA on one of q/k/v, resp. gate/up)
   *   attention         the contiguous copies the batched matmuls make of q, k^T and v: 3 BT qd
   *                     (with GQA the repeated k and v, qd wide); softmax output: B H T T;
   *                     the [B, T, H*D] copy into o_proj: BT qd when o_proj saves its input
   *   residual          the block's middle x: BT d (the second RMSNorm reads it)
   *   SwiGLU            gate, sigmoid, silu, up: 4 BT F; their product: BT F when down_proj saves its input
   *   LoRA per adapted  the scaled A x: BT r (B's gradient reads it)
   * </pre>
   *
   * LoRA without dropout, as the benchmark runs it: with dropout p &gt; 0 each adapted projection also
   * keeps its mask and dropped input, about 2 BT in more, which the plan leaves out.
   *
   * In the last layer everything after the attention runs on the N target rows only
   * ({@code CausalLM.targetLogits}): {@link #layerSavedElements(long)} counts those terms at N rows.
   *
   * Everything else (RoPE's products, raw and masked scores, the base output under an adapter) is
   * freed when the layer ends. Checked against the resident memory right after a forward pass with
   * every allocation returned to the system at once (MALLOC_MMAP_THRESHOLD_=65536): within 1% for full
   * fine-tuning, LoRA q,v and LoRA all-linear on the base model (BENCHMARKS.md, "Memory planner").
   */
  public long layerSavedElements() {
    return layerSavedElements((long) batch * seq);
  }

  /**
   * The same for a layer whose work after the attention (o_proj, the residual, the second RMSNorm,
   * the MLP) runs on {@code rows} positions: B T, or N in the last layer when the loss is taken at N.
   */
  public long layerSavedElements(long rows) {
    ModelConfig c = config;
    boolean full = mode == Mode.FULL;
    long bt = (long) batch * seq;
    long d = c.hiddenSize;
    long qd = (long) c.numHeads * c.headDim;
    long f = c.intermediateSize;
    long n = 0;
    n += 2 * bt + 2 * rows; // both RMSNorms' statistics
    n += full ? bt * d + rows * d : 0; // x * inv-rms of both (their weights train)
    n += savesInput(QKV) ? bt * d : 0;
    n += 3 * bt * qd + (long) batch * c.numHeads * seq * seq; // q, k^T, v copies; softmax output
    n += savesInput(Set.of("o_proj")) ? rows * qd : 0;
    n += rows * d; // the residual between the two blocks
    n += savesInput(Set.of("gate_proj", "up_proj")) ? rows * d : 0;
    n += 4 * rows * f + (savesInput(Set.of("down_proj")) ? rows * f : 0);
    for (String t : targets) {
      n += (QKV.contains(t) ? bt : rows) * r; // A x: q, k and v read every position
    }
    return n;
  }

  /** Whether one of these projections keeps its input for a weight's gradient (its own, or LoRA's A). */
  private boolean savesInput(Set<String> modules) {
    if (mode == Mode.FULL) {
      return true;
    }
    for (String m : modules) {
      if (targets.contains(m)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Elements the step's scope holds outside the decoder layers until the step ends: the embedding and
   * every layer's output (the last one's at the N target rows), RoPE tables, mask, inputs, and at the
   * N target positions the final RMSNorm and log-softmax (the trainer closes the raw logits before the
   * backward).
   */
  public long heldElements() {
    ModelConfig c = config;
    long bt = (long) batch * seq;
    long d = c.hiddenSize;
    long nt = targetPositions;
    boolean gathered = nt < bt;
    long n = c.numLayers * bt * d + nt * d; // embedding and layer outputs (the last one's at the N target rows)
    n += 4L * bt * c.headDim; // cos, sin looked up for the positions, and q's scaled copies
    n += (long) batch * seq * seq; // packed causal mask [B, 1, T, T]
    n += 2 * bt * 2 + (gathered ? 2 : 1) * nt * 2; // ids, positions, targets (and their indices): int64 = 2 floats
    n += 3 * nt * d + 3 * nt; // the final RMSNorm
    n += nt * c.vocabSize; // log-softmax (the trainer closes the raw logits before the backward)
    n += 2 * nt; // the targets' log-probabilities, negated
    // Left out: the gather's backward scatters N gradient rows into a B T buffer, small next to 2 N V.
    return n;
  }

  /** Elements alive when the backward starts: every layer's saved tensors and the step's held ones. */
  public long stepElements() {
    return layerSavedElements() * (config.numLayers - 1) + layerSavedElements(targetPositions) + heldElements();
  }

  /**
   * Elements the backward adds at its start, its peak: the two N V gradients of log-softmax at the head.
   * On a bfloat16 base the head's backward also holds bfloat16 casts of its N V gradient: 1.5 N V
   * floats more, as measured on base (lora_qv_bf16 against lora_qv, BENCHMARKS.md); on 25m it was
   * 0.8 N V, so this is an upper bound there.
   */
  public long backwardElements() {
    long nv = targetPositions * config.vocabSize;
    return 2L * nv + (bfloat16Base ? 3 * nv / 2 : 0);
  }

  public List<Item> items() {
    return List.copyOf(items);
  }

  /** Estimated peak resident bytes. */
  public long total() {
    return items.stream().mapToLong(Item::bytes).sum();
  }

  public Allocator allocator() {
    return allocator;
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
