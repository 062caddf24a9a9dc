package dev.retain.model.safetensors;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Collects tensors and metadata and writes one {@code .safetensors} file.
 *
 * <p>Why our own writer: the output must be byte-for-byte predictable (header keys in sorted
 * order with {@code __metadata__} first, data in the same order, header padded with spaces to a
 * multiple of 8 like the reference implementation), conversions to F16/BF16 must round to nearest
 * even, and a crash mid-write must never leave a half-written checkpoint behind: the file is
 * written to a temporary file in the same directory, forced to disk and atomically renamed. Data
 * is streamed in small chunks; no whole-file buffer is built.
 *
 * <p>Not thread-safe. The tensors' arrays are not copied; keep them unchanged until
 * {@link #write} returns.
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = JsonFactory.builder().build();
    private static final int SCRATCH_BYTES = 1 << 20;

    private final Map<String, String> metadata = new TreeMap<>();
    private final Map<String, TensorData> tensors = new TreeMap<>();

    public SafetensorsWriter() {
    }

    /** Adds one {@code __metadata__} entry (e.g. "format" -> "pt"). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Adds all entries of {@code entries} to {@code __metadata__}. */
    public SafetensorsWriter metadata(Map<String, String> entries) {
        entries.forEach(this::metadata);
        return this;
    }

    /** Adds a tensor; names must be unique. */
    public SafetensorsWriter add(TensorData tensor) {
        Objects.requireNonNull(tensor, "tensor");
        if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' added twice");
        }
        return this;
    }

    /** Adds all of {@code list}. */
    public SafetensorsWriter addAll(List<TensorData> list) {
        list.forEach(this::add);
        return this;
    }

    /** Shorthand for {@code add(TensorData.ofFloats(...))}. */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] data) {
        return add(TensorData.ofFloats(name, dtype, shape, data));
    }

    /** Shorthand for {@code add(TensorData.ofLongs(...))}. */
    public SafetensorsWriter addLongs(String name, DType dtype, long[] shape, long[] data) {
        return add(TensorData.ofLongs(name, dtype, shape, data));
    }

    /** Shorthand for {@code add(TensorData.ofBytes(...))}. */
    public SafetensorsWriter addBytes(String name, DType dtype, long[] shape, byte[] littleEndian) {
        return add(TensorData.ofBytes(name, dtype, shape, littleEndian));
    }

    /** Sum of the tensors' data bytes. */
    public long dataBytes() {
        long n = 0;
        for (TensorData t : tensors.values()) {
            n = Math.addExact(n, t.byteLength());
        }
        return n;
    }

    /** Writes the file atomically, replacing any existing file at {@code file}. */
    public void write(Path file) throws SafetensorsException {
        Objects.requireNonNull(file, "file");
        List<TensorData> ordered = new ArrayList<>(tensors.values());
        ordered.sort(Comparator.comparing(TensorData::name));
        byte[] header = header(ordered, metadata);
        if (header.length > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new SafetensorsException(file + ": the header would be " + header.length
                    + " bytes, above the " + SafetensorsFile.MAX_HEADER_BYTES + "-byte limit readers"
                    + " accept; use fewer tensors per file (SafetensorsCheckpoint.writeSharded)");
        }
        AtomicWrite.write(file, ch -> {
            ByteBuffer scratch = ByteBuffer.allocateDirect(SCRATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            scratch.putLong(header.length).flip();
            while (scratch.hasRemaining()) {
                ch.write(scratch);
            }
            ByteBuffer h = ByteBuffer.wrap(header);
            while (h.hasRemaining()) {
                ch.write(h);
            }
            for (TensorData t : ordered) {
                t.writeTo(ch, scratch);
            }
        });
    }

    /** The padded JSON header for tensors already in name order. */
    static byte[] header(List<TensorData> ordered, Map<String, String> metadata) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(bos, JsonEncoding.UTF8)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (TensorData t : ordered) {
                g.writeObjectFieldStart(t.name());
                g.writeStringField("dtype", t.dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                long end = Math.addExact(offset, t.byteLength());
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen writing to memory
        }
        int pad = (8 - bos.size() % 8) % 8;
        for (int i = 0; i < pad; i++) {
            bos.write(' ');
        }
        return bos.toByteArray();
    }
}
