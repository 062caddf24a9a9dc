package dev.retain.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Linear layers on bfloat16 copies of float32 weights: {@code x W^T} with bfloat16 inputs, accumulated
 * in float32 by libtorch. With AVX512-BF16 (measured here; AMX not measured) the linears of the base
 * and 25m models run 1.9-2.0x faster than in float32 without autograd, casts included; each output is
 * rounded to bfloat16 (8 significant bits).
 *
 * <p>A copy is a constant. While autograd records, the product records too and its gradient reaches
 * {@code x} (through the casts: the incoming gradient rounded to bfloat16, times the copy), never the
 * copy: that is how adapters train on a frozen base in bfloat16. Without recording, DJL runs the
 * module in libtorch's inference mode and the outputs are inference tensors: out-of-place operations
 * on them give ordinary tensors, but an in-place update of one, or saving one for a backward pass,
 * fails loudly. A distillation teacher's values are used that way.
 *
 * <p>DJL 0.36 aborts the JVM on any bfloat16 tensor it wraps (djl-notes.md, pitfall 2), so the copies
 * live inside a small TorchScript module (tools/bfloat16_linear.py; only code, no weights) and Java
 * sees float32 tensors and slot numbers only. One instance holds the copies of one model; closing it
 * frees them.
 */
public final class Bfloat16 implements AutoCloseable {
  private static final String ARCHIVE = "bfloat16_linear.pt";
  /** What to tell a user where {@link #nativeOnThisCpu} is false. */
  public static final String NOT_NATIVE = "this CPU has no bfloat16 matmul instructions (avx512_bf16, amx_bf16): "
      + "libtorch emulates them, slower than float32";

  private final PtSymbolBlock module;
  private final List<NDArray> slots = new ArrayList<>(); // each copy's slot number, as the module takes it
  private boolean closed;

  /** One weight's bfloat16 copy: {@code linear(x)} = x W^T in bfloat16, as float32. */
  public static final class Weight {
    private final Bfloat16 owner;
    private final NDArray slot; // the copy's slot number as the module takes it (a 0-d int64 tensor); owner closes it

    private Weight(Bfloat16 owner, NDArray slot) {
      this.owner = owner;
      this.slot = slot;
    }

    public NDArray linear(NDArray x) {
      return owner.linear(x, slot);
    }

    /** The copy's slot in its module (0, 1, ... in the order kept). */
    public int slot() {
      return (int) slot.getLong();
    }
  }

  /** Loads the scripted module on {@code manager}'s device. */
  public Bfloat16(NDManager manager) {
    try (InputStream in = Bfloat16.class.getResourceAsStream(ARCHIVE)) {
      if (in == null) {
        throw new IllegalStateException("the TorchScript archive " + ARCHIVE + " is missing from the classpath "
            + "(src/main/resources/dev/retain/tensor; rebuild the jar)");
      }
      // The module's two lines run as written, op by op with libtorch's own autograd (as eager
      // PyTorch does), not through TorchScript's profiling executor, which would re-specialise them for
      // every new input shape. (Measured: the same speed and peak memory either way, within this
      // machine's noise; this is the simpler of the two.) libtorch keeps this switch per thread: it
      // holds for the thread that loads the module, which is the one that runs retain's passes.
      JniUtils.setGraphExecutorOptimize(false);
      module = JniUtils.loadModule((PtNDManager) manager, in, false, false);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + ARCHIVE + " from the classpath", e);
    }
  }

  /** Keeps a bfloat16 copy of {@code w} [out, in] (float32); later changes to {@code w} do not reach it. */
  public Weight keep(NDArray w) {
    // Called outside inference mode (isTrain), so the copy is an ordinary tensor that a backward pass
    // may save (one made in inference mode could not be); keep detaches, so nothing is recorded.
    NDArray slot;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray method = w.getManager().create(0L);
      method.setName("module_method:keep"); // DJL's way to name the method; not passed as an argument
      slot = IValueUtils.forward(module, new NDList(w, method), true).singletonOrThrow();
      NDScope.unregister(slot);
    }
    slots.add(slot);
    return new Weight(this, slot);
  }

  /** The number of copies kept. */
  public int size() {
    return slots.size();
  }

  /**
   * x [.., in] W^T -> [.., out] through the copy in {@code slot}: inputs rounded to bfloat16, products
   * summed in float32, the result rounded to bfloat16 and returned as float32. Recorded when autograd
   * records (the gradient reaches x only), in inference mode otherwise.
   */
  NDArray linear(NDArray x, NDArray slot) {
    return IValueUtils.forward(module, new NDList(x, slot), JniUtils.isGradMode()).singletonOrThrow();
  }

  /**
   * Whether this CPU computes bfloat16 matmuls in hardware (the avx512_bf16 or amx_bf16 flag of
   * /proc/cpuinfo). Elsewhere libtorch emulates them, slower than float32. True when the flags cannot
   * be read (not Linux): the caller only uses this to warn.
   */
  public static boolean nativeOnThisCpu() {
    try {
      String info = Files.readString(Path.of("/proc/cpuinfo")).toLowerCase(Locale.ROOT);
      return info.contains("avx512_bf16") || info.contains("amx_bf16");
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      slots.forEach(NDArray::close);
      module.close();
    }
  }
}
