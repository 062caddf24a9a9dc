package dev.retain.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor to be written: dtype, shape and its values, held as a float[] (converted to
 * F32/F16/BF16/F64 while writing), a long[] (converted to the integer types, range-checked up
 * front) or raw little-endian bytes.
 *
 * <p>Why a separate type: the writer streams each tensor straight from the caller's array into the
 * file in small chunks, so a multi-GiB checkpoint never needs a second full copy in memory. The
 * arrays are therefore NOT copied: do not modify them until the write has finished.
 */
public final class TensorData {
    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final float[] floats;
    private final long[] longs;
    private final ByteBuffer bytes;

    private TensorData(String name, DType dtype, long[] shape, float[] floats, long[] longs, ByteBuffer bytes) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved and cannot be a tensor name");
        }
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        long n = 1;
        for (long d : this.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " has too many elements");
            }
        }
        this.numel = n;
        this.floats = floats;
        this.longs = longs;
        this.bytes = bytes;
        long have = floats != null ? floats.length : longs != null ? longs.length
                : (long) bytes.remaining();
        if (numel > Long.MAX_VALUE / dtype.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " x " + dtype + " is too large to address");
        }
        long want = bytes != null ? numel * dtype.byteSize() : numel;
        if (have != want) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " x " + dtype + " needs " + want + (bytes != null ? " bytes" : " values")
                    + " but " + have + " were given");
        }
    }

    /** Float values written as F32 (bit-exact), F16 or BF16 (round to nearest even), or F64. */
    public static TensorData ofFloats(String name, DType dtype, long[] shape, float[] data) {
        Objects.requireNonNull(data, "data");
        if (!Objects.requireNonNull(dtype, "dtype").isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "': float data cannot be written as "
                    + dtype + "; use ofLongs for integer dtypes");
        }
        return new TensorData(name, dtype, shape, data, null, null);
    }

    /** Integer values written as I64, I32, I16, I8, U8 or BOOL; each value must fit the dtype. */
    public static TensorData ofLongs(String name, DType dtype, long[] shape, long[] data) {
        Objects.requireNonNull(data, "data");
        if (!Objects.requireNonNull(dtype, "dtype").isIntegral()) {
            throw new IllegalArgumentException("tensor '" + name + "': integer data cannot be written as "
                    + dtype + "; use ofFloats for floating-point dtypes");
        }
        long min;
        long max;
        switch (dtype) {
            case I32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            case I16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
            case I8 -> { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
            case U8 -> { min = 0; max = 255; }
            case BOOL -> { min = 0; max = 1; }
            default -> { min = Long.MIN_VALUE; max = Long.MAX_VALUE; }
        }
        for (int i = 0; i < data.length; i++) {
            if (data[i] < min || data[i] > max) {
                throw new IllegalArgumentException("tensor '" + name + "': value " + data[i] + " at index "
                        + i + " does not fit " + dtype + " [" + min + ", " + max + "]");
            }
        }
        return new TensorData(name, dtype, shape, null, data, null);
    }

    /** Raw little-endian element bytes, written unchanged. */
    public static TensorData ofBytes(String name, DType dtype, long[] shape, byte[] littleEndian) {
        return new TensorData(name, dtype, shape, null, null,
                ByteBuffer.wrap(Objects.requireNonNull(littleEndian, "littleEndian")));
    }

    /**
     * Raw little-endian element bytes from {@code position} to {@code limit} of the buffer (which is
     * not modified), written unchanged; e.g. {@link SafetensorsFile#map} of another file.
     */
    public static TensorData ofBuffer(String name, DType dtype, long[] shape, ByteBuffer littleEndian) {
        return new TensorData(name, dtype, shape, null, null,
                Objects.requireNonNull(littleEndian, "littleEndian").slice());
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return numel;
    }

    /** Bytes this tensor occupies in the file. */
    public long byteLength() {
        return numel * dtype.byteSize();
    }

    /** Streams the encoded bytes to {@code out} through {@code scratch} (cleared, little-endian). */
    void writeTo(WritableByteChannel out, ByteBuffer scratch) throws IOException {
        scratch.clear().order(ByteOrder.LITTLE_ENDIAN);
        if (bytes != null) {
            ByteBuffer src = bytes.duplicate();
            while (src.hasRemaining()) {
                out.write(src);
            }
            return;
        }
        int es = dtype.byteSize();
        int per = scratch.capacity() / es;
        int n = (int) numel;
        for (int start = 0; start < n; start += per) {
            int k = Math.min(per, n - start);
            scratch.clear();
            if (floats != null) {
                encodeFloats(scratch, start, k);
            } else {
                encodeLongs(scratch, start, k);
            }
            scratch.flip();
            while (scratch.hasRemaining()) {
                out.write(scratch);
            }
        }
    }

    private void encodeFloats(ByteBuffer b, int start, int k) {
        switch (dtype) {
            case F32 -> {
                b.asFloatBuffer().put(floats, start, k);
                b.position(k * 4);
            }
            case F64 -> {
                for (int i = 0; i < k; i++) {
                    b.putDouble(floats[start + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < k; i++) {
                    b.putShort(HalfFloats.floatToF16(floats[start + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < k; i++) {
                    b.putShort(HalfFloats.floatToBf16(floats[start + i]));
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    private void encodeLongs(ByteBuffer b, int start, int k) {
        switch (dtype) {
            case I64 -> {
                b.asLongBuffer().put(longs, start, k);
                b.position(k * 8);
            }
            case I32 -> {
                for (int i = 0; i < k; i++) {
                    b.putInt((int) longs[start + i]);
                }
            }
            case I16 -> {
                for (int i = 0; i < k; i++) {
                    b.putShort((short) longs[start + i]);
                }
            }
            case I8, U8, BOOL -> {
                for (int i = 0; i < k; i++) {
                    b.put((byte) longs[start + i]);
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    @Override
    public String toString() {
        return "TensorData[" + name + " " + dtype + " " + Arrays.toString(shape) + "]";
    }
}
