package dev.retain.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Tensors made from Java arrays, in memory that libtorch owns: what every training, evaluation and
 * generation step uses for its inputs (token ids, positions, masks, targets, weights).
 *
 * <p>Why not {@code NDManager.create(float[], Shape)}: DJL copies the array into a direct buffer of
 * its own and the tensor borrows that buffer ({@code torch::from_blob}). Closing the tensor does not
 * free the buffer; the garbage collector does, when it next runs, and a training step makes little
 * Java garbage (one young collection every 170 steps of the base model), so the inputs of every step
 * since the last collection stay allocated (the packed mask alone is B x T x T floats, 1 MiB at
 * 16 x 128). Here libtorch allocates the tensor ({@code torch::empty}) and the array is written
 * through DJL's direct view of the tensor's own memory; closing the tensor (its step's NDScope) frees
 * it at once, which is what "native memory is scoped per step" means.
 */
public final class Host {
  private Host() {}

  /** A float32 tensor of {@code shape} holding {@code data} (row-major). */
  public static NDArray of(NDManager m, float[] data, Shape shape) {
    return write(m, data.length, shape, DataType.FLOAT32, b -> b.asFloatBuffer().put(data), () -> m.create(data, shape));
  }

  /** An int64 tensor of {@code shape} holding {@code data} (row-major). */
  public static NDArray of(NDManager m, long[] data, Shape shape) {
    return write(m, data.length, shape, DataType.INT64, b -> b.asLongBuffer().put(data), () -> m.create(data, shape));
  }

  /**
   * A 0-d float32 tensor holding {@code value}, owned by the current scope: a value that changes from
   * step to step (a loss's 1/count). Constants that never change come from {@link Consts}, which keeps each forever.
   */
  public static NDArray scalar(NDManager m, float value) {
    return of(m, new float[] {value}, new Shape());
  }

  /** A 1-d int64 tensor holding {@code data}. */
  public static NDArray of(NDManager m, long[] data) {
    return of(m, data, new Shape(data.length));
  }

  /**
   * A fresh {@code type} tensor of {@code shape} ({@code n} values) that {@code fill} writes through its
   * memory, or DJL's copy ({@code fallback}) where that memory is not writable.
   */
  private static NDArray write(NDManager m, int n, Shape shape, DataType type, Consumer<ByteBuffer> fill,
      Supplier<NDArray> fallback) {
    checkSize(n, shape);
    long bytes = (long) type.getNumOfBytes() * n;
    if (bytes > Integer.MAX_VALUE) {
      // DJL 0.36 hands neither a direct view of such a tensor nor a buffer to copy it from.
      throw new IllegalArgumentException("a " + shape + " " + type + " tensor is " + bytes + " bytes; DJL 0.36 "
          + "writes at most 2 GiB into one tensor");
    }
    if (!writable(m)) {
      return fallback.get();
    }
    NDArray x = m.create(shape, type);
    try {
      fill.accept(view(x, bytes));
    } catch (RuntimeException e) {
      x.close();
      throw e;
    }
    return x;
  }

  /** Whether a fresh tensor's memory is written through its direct view: probed once, on the CPU. */
  private static boolean writable(NDManager m) {
    if (!m.getDevice().equals(Device.cpu())) {
      return false;
    }
    Boolean ok = viewsWrite;
    if (ok == null) {
      try (NDManager probe = m.newSubManager()) {
        NDArray x = probe.create(new Shape(2), DataType.FLOAT32);
        view(x, 8).asFloatBuffer().put(new float[] {1.5f, -2f});
        float[] back = x.toFloatArray();
        ok = back[0] == 1.5f && back[1] == -2f;
      } catch (IllegalStateException e) {
        ok = false; // no direct view of a fresh tensor: DJL's own copy path, buffers and all
      }
      viewsWrite = ok;
    }
    return ok;
  }

  private static volatile Boolean viewsWrite;

  private static void checkSize(int n, Shape shape) {
    if (shape.size() != n) {
      throw new IllegalArgumentException(n + " values do not fill a tensor of shape " + shape);
    }
  }

  /** The fresh (so contiguous) CPU tensor's own memory; DJL would hand a copy only for a strided view. */
  private static ByteBuffer view(NDArray x, long bytes) {
    if (bytes == 0) {
      return ByteBuffer.allocate(0);
    }
    ByteBuffer b = x.toByteBuffer(true);
    if (!b.isDirect() || b.capacity() != bytes) {
      throw new IllegalStateException("libtorch did not hand the memory of a fresh " + x.getShape()
          + " tensor (direct: " + b.isDirect() + ", " + b.capacity() + " of " + bytes + " bytes)");
    }
    return b.order(ByteOrder.nativeOrder());
  }
}
