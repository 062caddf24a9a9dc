package dev.retain.model.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A read-only, validated view of one {@code .safetensors} file.
 *
 * <p>Why our own reader: checkpoints come from the internet and from interrupted writes, so the
 * whole header is validated when the file is opened (sizes, dtypes, shapes, offsets, overlaps)
 * and every failure surfaces as a {@link SafetensorsException} that names the file and tensor;
 * nothing is ever allocated from an unchecked size. Tensor data is read through memory mapping
 * of just that tensor's byte range, so multi-GiB files cost no heap beyond the arrays returned,
 * and BF16/F16 are converted bit-exactly by {@link HalfFloats} rather than by any library path.
 *
 * <p>Layout: 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data
 * section; {@code data_offsets} are relative to the start of the data section. Gaps between
 * tensors and unused bytes at the end of the data section are tolerated; overlaps are not.
 *
 * <p>Instances are safe to use from several threads. Do not truncate or rewrite the file in place
 * while it is open: the operating system reports access to vanished mapped pages as a JVM error.
 * (Our writer never does that; it replaces files atomically.)
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Largest header length accepted (the bound the reference implementation uses). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Largest number of elements returned in one Java array. */
    public static final int MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

    /** Largest number of dimensions accepted in a shape. */
    static final int MAX_RANK = 1024;

    /** Bytes mapped at a time by the whole-tensor readers. */
    static final long DEFAULT_CHUNK_BYTES = 1L << 30;

    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final Path path;
    private final FileChannel channel;
    private final long headerLength;
    private final long dataStart;
    private final long dataLength;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long headerLength, long fileSize,
                            Map<String, String> metadata, Map<String, TensorInfo> tensors) {
        this.path = path;
        this.channel = channel;
        this.headerLength = headerLength;
        this.dataStart = 8 + headerLength;
        this.dataLength = fileSize - dataStart;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
    }

    /**
     * Opens and fully validates {@code file}. The returned object holds the file open until
     * {@link #close()}.
     */
    public static SafetensorsFile open(Path file) throws SafetensorsException {
        Objects.requireNonNull(file, "file");
        if (Files.isDirectory(file)) {
            throw new SafetensorsException(file + ": is a directory, not a safetensors file;"
                    + " use SafetensorsCheckpoint.open(dir) for a model folder");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(file + ": no such file", e);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(file + ": cannot open for reading: " + e, e);
        }
        boolean ok = false;
        try {
            SafetensorsFile f = parse(file, ch);
            ok = true;
            return f;
        } finally {
            if (!ok) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing; the original exception matters
                }
            }
        }
    }

    // ------------------------------------------------------------------ header parsing

    private static SafetensorsFile parse(Path file, FileChannel ch) throws SafetensorsException {
        long size;
        try {
            size = ch.size();
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot determine the file size: " + e, e);
        }
        if (size < 8) {
            throw new SafetensorsException(file + ": file is only " + size + " bytes long, but a"
                    + " safetensors file starts with an 8-byte header length; the file is empty or"
                    + " truncated (interrupted download or write?); re-download or re-save it");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            String hint = looksLikeLfsPointer(lenBuf)
                    ? "; the file looks like a Git LFS pointer, not the real weights: run `git lfs pull`"
                            + " or download the file itself"
                    : "; this is not a safetensors file or its first 8 bytes are corrupt";
            throw new SafetensorsException(file + ": header length field says "
                    + Long.toUnsignedString(n) + " bytes, above the limit of " + MAX_HEADER_BYTES
                    + " bytes" + hint);
        }
        if (n > size - 8) {
            throw new SafetensorsException(file + ": header length field says " + n
                    + " bytes but only " + (size - 8) + " bytes follow it; the file is truncated"
                    + " (interrupted download or write?) or not a safetensors file");
        }
        if (n < 2) {
            throw new SafetensorsException(file + ": header length field says " + n
                    + " bytes, too short for even an empty JSON object \"{}\"; the file is corrupt"
                    + " or not a safetensors file");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(file, ch, headerBuf, 8);
        headerBuf.flip();
        String json;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBuf);
            json = chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file + ": header (" + n + " bytes) is not valid UTF-8;"
                    + " the file is corrupt or not a safetensors file", e);
        }

        long dataLength = size - 8 - n;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new TreeMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                throw new SafetensorsException(file + ": header is "
                        + (t == null ? "empty" : "a JSON " + kind(t))
                        + ", expected a JSON object mapping tensor names to"
                        + " {dtype, shape, data_offsets}; the file is corrupt or not a safetensors file");
            }
            boolean sawMetadata = false;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if ("__metadata__".equals(key)) {
                    if (sawMetadata) {
                        throw new SafetensorsException(file + ": header has \"__metadata__\" twice;"
                                + " the file is corrupt");
                    }
                    sawMetadata = true;
                    parseMetadata(file, p, metadata);
                } else {
                    if (tensors.containsKey(key)) {
                        throw new SafetensorsException(file + ": header lists tensor " + quote(key)
                                + " twice; the file is corrupt or was written by a broken tool");
                    }
                    tensors.put(key, parseEntry(file, key, p, dataLength));
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new SafetensorsException(file + ": header JSON is malformed (unexpected "
                        + kind(t) + "); the file is corrupt");
            }
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new SafetensorsException(file + ": header has extra content after the JSON"
                        + " object (" + kind(after) + "); the file is corrupt");
            }
        } catch (SafetensorsException e) {
            throw e;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String at = loc == null ? "" : " at character " + loc.getCharOffset();
            throw new SafetensorsException(file + ": header is not valid JSON" + at + ": "
                    + e.getOriginalMessage() + "; the file is corrupt or not a safetensors file", e);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(file + ": cannot parse header JSON: " + e
                    + "; the file is corrupt or not a safetensors file", e);
        }
        checkOverlaps(file, tensors);
        return new SafetensorsFile(file, ch, n, size, metadata, tensors);
    }

    private static boolean looksLikeLfsPointer(ByteBuffer first8) {
        byte[] b = new byte[8];
        first8.get(0, b);
        return new String(b, StandardCharsets.ISO_8859_1).equals("version ");
    }

    private static void parseMetadata(Path file, JsonParser p, Map<String, String> out)
            throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return;
        }
        if (t != JsonToken.START_OBJECT) {
            throw new SafetensorsException(file + ": \"__metadata__\" is a JSON " + kind(t)
                    + ", expected an object of string to string; the file is corrupt");
        }
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw new SafetensorsException(file + ": \"__metadata__\" entry " + quote(k) + " is a JSON "
                        + kind(v) + ", but metadata values must be strings; the file was written by"
                        + " a tool that does not follow the format");
            }
            if (out.put(k, p.getText()) != null) {
                throw new SafetensorsException(file + ": \"__metadata__\" has key " + quote(k)
                        + " twice; the file is corrupt");
            }
        }
    }

    private static TensorInfo parseEntry(Path file, String name, JsonParser p, long dataLength)
            throws IOException {
        String where = file + ": tensor " + quote(name);
        JsonToken t = p.currentToken();
        if (t != JsonToken.START_OBJECT) {
            throw new SafetensorsException(where + ": header entry is a JSON " + kind(t)
                    + ", expected an object with dtype, shape and data_offsets; the file is corrupt");
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (dtypeName != null) {
                        throw new SafetensorsException(where + ": \"dtype\" given twice; the file is corrupt");
                    }
                    if (v != JsonToken.VALUE_STRING) {
                        throw new SafetensorsException(where + ": \"dtype\" is a JSON " + kind(v)
                                + ", expected a string such as \"F32\"; the file is corrupt");
                    }
                    dtypeName = p.getText();
                }
                case "shape" -> {
                    if (shape != null) {
                        throw new SafetensorsException(where + ": \"shape\" given twice; the file is corrupt");
                    }
                    shape = readLongArray(where, "shape", p, MAX_RANK);
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw new SafetensorsException(where + ": \"data_offsets\" given twice; the file is corrupt");
                    }
                    offsets = readLongArray(where, "data_offsets", p, 2);
                }
                default -> p.skipChildren();
            }
        }
        if (dtypeName == null || shape == null || offsets == null) {
            String missing = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw new SafetensorsException(where + ": header entry has no \"" + missing
                    + "\"; every tensor needs dtype, shape and data_offsets; the file is corrupt"
                    + " or was written by a broken tool");
        }
        DType dtype = DType.parse(dtypeName);
        if (dtype == null) {
            throw new SafetensorsException(where + ": unsupported dtype " + quote(dtypeName)
                    + "; supported are " + DType.supportedList()
                    + "; convert the checkpoint to one of these (e.g. F32 or BF16)");
        }
        if (offsets.length != 2) {
            throw new SafetensorsException(where + ": \"data_offsets\" has " + offsets.length
                    + " numbers, expected exactly two [begin, end]; the file is corrupt");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end
                    + "] end before they begin; the file is corrupt");
        }
        if (end > dataLength) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section, which is only " + dataLength
                    + " bytes; the file is truncated (interrupted download or write?) or corrupt");
        }
        long numel = 1;
        long needed;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            needed = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where + ": shape " + Arrays.toString(shape) + " x "
                    + dtype + " is too large to address (overflows 64 bits); the file is corrupt");
        }
        if (end - begin != needed) {
            throw new SafetensorsException(where + " has data_offsets [" + begin + ", " + end
                    + "] (" + (end - begin) + " bytes) but shape " + Arrays.toString(shape) + " x "
                    + dtype + " needs " + needed + " bytes; the file is corrupt or was written by a"
                    + " broken tool");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] readLongArray(String where, String field, JsonParser p, int max)
            throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.START_ARRAY) {
            throw new SafetensorsException(where + ": \"" + field + "\" is a JSON " + kind(t)
                    + ", expected an array of non-negative integers; the file is corrupt");
        }
        long[] buf = new long[4];
        int n = 0;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new SafetensorsException(where + ": \"" + field + "\" contains a JSON "
                        + kind(t) + (t == JsonToken.VALUE_NUMBER_FLOAT ? " (" + p.getText() + ")" : "")
                        + ", expected non-negative integers; the file is corrupt");
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new SafetensorsException(where + ": \"" + field + "\" contains "
                        + abbreviate(p.getText()) + ", which does not fit in 64 bits;"
                        + " the file is corrupt");
            }
            long v = p.getLongValue();
            if (v < 0) {
                throw new SafetensorsException(where + ": \"" + field + "\" contains the negative"
                        + " number " + v + (field.equals("shape") ? " (a negative dimension)" : "")
                        + "; the file is corrupt");
            }
            if (n == max) {
                throw new SafetensorsException(where + ": \"" + field + "\" has more than " + max
                        + " entries; the file is corrupt");
            }
            if (n == buf.length) {
                buf = Arrays.copyOf(buf, Math.min(max, n * 2));
            }
            buf[n++] = v;
        }
        return Arrays.copyOf(buf, n);
    }

    private static void checkOverlaps(Path file, Map<String, TensorInfo> tensors)
            throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>();
        for (TensorInfo t : tensors.values()) {
            if (t.end() > t.begin()) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (prev != null && t.begin() < prev.end()) {
                throw new SafetensorsException(file + ": tensors " + quote(prev.name()) + " [" + prev.begin()
                        + ", " + prev.end() + ") and " + quote(t.name()) + " [" + t.begin() + ", " + t.end()
                        + ") overlap in the data section; the file is corrupt or was written by a"
                        + " broken tool");
            }
            if (prev == null || t.end() > prev.end()) {
                prev = t;
            }
        }
    }

    private static String kind(JsonToken t) {
        if (t == null) {
            return "end of input";
        }
        return switch (t) {
            case START_OBJECT, END_OBJECT -> "object";
            case START_ARRAY, END_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "boolean";
            case VALUE_NULL -> "null";
            case FIELD_NAME -> "field name";
            default -> t.toString();
        };
    }

    /** A name from the file, quoted for a message: control characters escaped, long names cut. */
    static String quote(String name) {
        String s = name.length() <= 200 ? name : name.substring(0, 197) + "...";
        StringBuilder b = new StringBuilder(s.length() + 2).append('\'');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('\'').toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long pos)
            throws SafetensorsException {
        try {
            while (buf.hasRemaining()) {
                int r = ch.read(buf, pos);
                if (r < 0) {
                    throw new EOFException("unexpected end of file at byte " + pos);
                }
                pos += r;
            }
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot read the header: " + e
                    + "; the file may have been truncated while it was being read", e);
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The file this object reads. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty if absent), unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in sorted order, unmodifiable. */
    public List<String> names() {
        return names;
    }

    /** All header entries in name order. */
    public List<TensorInfo> infos() {
        return List.copyOf(tensors.values());
    }

    /** Whether the file has a tensor called {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry for {@code name}; throws if the file has no such tensor. */
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor named '" + name + "' (the file has "
                    + tensors.size() + " tensors" + nearby(name) + ")");
        }
        return t;
    }

    /** Length of the JSON header in bytes (including padding). */
    public long headerLength() {
        return headerLength;
    }

    /** Length of the data section in bytes. */
    public long dataLength() {
        return dataLength;
    }

    private String nearby(String name) {
        // a name differing only by a dotted prefix (e.g. "model.") is the most likely mix-up
        String best = null;
        for (String n : tensors.keySet()) {
            if ((n.endsWith("." + name) || name.endsWith("." + n))
                    && (best == null || n.length() < best.length())) {
                best = n;
            }
        }
        if (best == null) {
            int bestLen = 0;
            for (String n : tensors.keySet()) {
                int k = 0;
                while (k < n.length() && k < name.length()
                        && n.charAt(n.length() - 1 - k) == name.charAt(name.length() - 1 - k)) {
                    k++;
                }
                if (k > bestLen || (k == bestLen && best != null && n.length() < best.length())) {
                    bestLen = k;
                    best = n;
                }
            }
            if (bestLen < 4) {
                best = null;
            }
        }
        return best != null ? "; did you mean '" + best + "'?" : "";
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a whole tensor as floats. F32 is copied bit-exactly; F64 is narrowed; F16 and BF16 are
     * widened exactly; integer types and BOOL are converted numerically (U8 unsigned, BOOL 0/1).
     */
    public float[] readFloats(String name) throws SafetensorsException {
        return readFloats(name, DEFAULT_CHUNK_BYTES);
    }

    /** {@link #readFloats(String)} for elements {@code [first, first + count)} of the flattened tensor. */
    public float[] readFloats(String name, long first, int count) throws SafetensorsException {
        TensorInfo t = info(name);
        checkSlice(t, first, count);
        float[] out = new float[count];
        readChunks(t, first, count, DEFAULT_CHUNK_BYTES, (buf, off, k) -> toFloats(t.dtype(), buf, out, off, k));
        return out;
    }

    float[] readFloats(String name, long chunkBytes) throws SafetensorsException {
        TensorInfo t = info(name);
        int count = checkedCount(t);
        float[] out = new float[count];
        readChunks(t, 0, count, chunkBytes, (buf, off, k) -> toFloats(t.dtype(), buf, out, off, k));
        return out;
    }

    /**
     * Reads a whole integer tensor (I64, I32, I16, I8, U8 unsigned, BOOL as 0/1) as longs. Floating
     * point tensors are refused; use {@link #readFloats(String)}.
     */
    public long[] readLongs(String name) throws SafetensorsException {
        return readLongs(name, DEFAULT_CHUNK_BYTES);
    }

    long[] readLongs(String name, long chunkBytes) throws SafetensorsException {
        TensorInfo t = info(name);
        if (!t.dtype().isIntegral()) {
            throw new SafetensorsException(path + ": tensor '" + name + "' is " + t.dtype()
                    + ", not an integer type; use readFloats for floating-point tensors");
        }
        int count = checkedCount(t);
        long[] out = new long[count];
        readChunks(t, 0, count, chunkBytes, (buf, off, k) -> toLongs(t.dtype(), buf, out, off, k));
        return out;
    }

    /**
     * A read-only, little-endian, memory-mapped view of the tensor's raw bytes (position 0, limit
     * = byte length). Refused for tensors of 2 GiB or more; read those with the chunked readers.
     */
    public ByteBuffer map(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        long len = t.byteLength();
        if (len > Integer.MAX_VALUE) {
            throw new SafetensorsException(path + ": tensor '" + name + "' is " + len
                    + " bytes, too large for one ByteBuffer (limit " + Integer.MAX_VALUE
                    + "); use readFloats(name, first, count) to read it in slices");
        }
        if (len == 0) {
            ensureOpen();
            return ByteBuffer.allocate(0).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        return mapRange(t, dataStart + t.begin(), len);
    }

    private int checkedCount(TensorInfo t) throws SafetensorsException {
        long n = t.byteLength() / t.dtype().byteSize();
        if (n > MAX_ARRAY_ELEMENTS) {
            throw new SafetensorsException(path + ": tensor '" + t.name() + "' has " + n
                    + " elements, more than a Java array can hold (" + MAX_ARRAY_ELEMENTS
                    + "); read it in slices with readFloats(name, first, count)");
        }
        return (int) n;
    }

    private void checkSlice(TensorInfo t, long first, int count) throws SafetensorsException {
        long n = t.byteLength() / t.dtype().byteSize();
        if (first < 0 || count < 0 || count > MAX_ARRAY_ELEMENTS || first > n - count) {
            throw new SafetensorsException(path + ": tensor '" + t.name() + "' has " + n
                    + " elements; cannot read " + count + " elements starting at " + first);
        }
    }

    @FunctionalInterface
    private interface ChunkSink {
        void accept(ByteBuffer chunk, int outOffset, int count);
    }

    private void readChunks(TensorInfo t, long first, int count, long chunkBytes, ChunkSink sink)
            throws SafetensorsException {
        int es = t.dtype().byteSize();
        long perChunk = Math.max(1, Math.min(chunkBytes, Integer.MAX_VALUE) / es);
        if (count == 0) {
            ensureOpen();
            return;
        }
        for (long done = 0; done < count; ) {
            int k = (int) Math.min(perChunk, count - done);
            long pos = dataStart + t.begin() + (first + done) * es;
            ByteBuffer buf = mapRange(t, pos, (long) k * es);
            sink.accept(buf, (int) done, k);
            done += k;
        }
    }

    private ByteBuffer mapRange(TensorInfo t, long pos, long len) throws SafetensorsException {
        ensureOpen();
        try {
            long size = channel.size();
            if (pos + len > size) {
                throw new SafetensorsException(path + ": tensor '" + t.name() + "' needs bytes up to "
                        + (pos + len) + " but the file is now " + size + " bytes; it was truncated or"
                        + " replaced after it was opened; reopen it");
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, pos, len).order(ByteOrder.LITTLE_ENDIAN);
        } catch (ClosedChannelException e) {
            throw new SafetensorsException(path + ": file is closed; cannot read tensor '" + t.name() + "'", e);
        } catch (IOException e) {
            if (e instanceof SafetensorsException se) {
                throw se;
            }
            throw new SafetensorsException(path + ": cannot map tensor '" + t.name() + "': " + e, e);
        }
    }

    private void ensureOpen() throws SafetensorsException {
        if (closed) {
            throw new SafetensorsException(path + ": file is closed");
        }
    }

    private static void toFloats(DType dtype, ByteBuffer b, float[] out, int off, int k) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer fb = b.asFloatBuffer();
                fb.get(out, off, k);
            }
            case F64 -> {
                DoubleBuffer db = b.asDoubleBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = (float) db.get(i);
                }
            }
            case F16 -> {
                ShortBuffer sb = b.asShortBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = HalfFloats.f16ToFloat(sb.get(i));
                }
            }
            case BF16 -> {
                ShortBuffer sb = b.asShortBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = Float.intBitsToFloat((sb.get(i) & 0xFFFF) << 16);
                }
            }
            case I64 -> {
                LongBuffer lb = b.asLongBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = (float) lb.get(i);
                }
            }
            case I32 -> {
                IntBuffer ib = b.asIntBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = (float) ib.get(i);
                }
            }
            case I16 -> {
                ShortBuffer sb = b.asShortBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = sb.get(i);
                }
            }
            case I8 -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i);
                }
            }
            case U8 -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i) & 0xFF;
                }
            }
            case BOOL -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i) != 0 ? 1f : 0f;
                }
            }
        }
    }

    private static void toLongs(DType dtype, ByteBuffer b, long[] out, int off, int k) {
        switch (dtype) {
            case I64 -> b.asLongBuffer().get(out, off, k);
            case I32 -> {
                IntBuffer ib = b.asIntBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = ib.get(i);
                }
            }
            case I16 -> {
                ShortBuffer sb = b.asShortBuffer();
                for (int i = 0; i < k; i++) {
                    out[off + i] = sb.get(i);
                }
            }
            case I8 -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i);
                }
            }
            case U8 -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i) & 0xFF;
                }
            }
            case BOOL -> {
                for (int i = 0; i < k; i++) {
                    out[off + i] = b.get(i) != 0 ? 1 : 0;
                }
            }
            default -> throw new IllegalStateException("not an integer dtype: " + dtype);
        }
    }

    /** Closes the file. Buffers returned by {@link #map} stay valid until garbage collected. */
    @Override
    public void close() throws SafetensorsException {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new SafetensorsException(path + ": error while closing: " + e, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
