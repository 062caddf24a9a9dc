package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of the reader: whatever the bytes, {@code open} and reading every tensor
 * either succeed or throw {@link SafetensorsException}; anything else (a RuntimeException, an
 * Error) fails the test with the seed and case number needed to reproduce it. Set
 * {@code -Dsafetensors.fuzz.seed=...} / {@code -Dsafetensors.fuzz.cases=...} to explore further.
 */
class FuzzTest {

    @TempDir
    Path tmp;

    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    private static byte[] validBase(Path dir) throws IOException {
        Path p = dir.resolve("base.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .addFloats("a.f32", DType.F32, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .addFloats("b.f16", DType.F16, new long[] {3}, new float[] {1, -2, 0.5f})
                .addFloats("c.bf16", DType.BF16, new long[] {2, 2}, new float[] {1, 2, 3, 4})
                .addFloats("d.f64", DType.F64, new long[] {1}, new float[] {9})
                .addLongs("e.i64", DType.I64, new long[] {2}, new long[] {-1, 1})
                .addLongs("f.i32", DType.I32, new long[] {2}, new long[] {7, 8})
                .addLongs("g.i16", DType.I16, new long[] {1}, new long[] {-3})
                .addLongs("h.i8", DType.I8, new long[] {1}, new long[] {-4})
                .addLongs("i.u8", DType.U8, new long[] {3}, new long[] {0, 128, 255})
                .addLongs("j.bool", DType.BOOL, new long[] {2}, new long[] {1, 0})
                .addFloats("k.scalar", DType.F32, new long[] {}, new float[] {3})
                .addFloats("l.empty", DType.F32, new long[] {0}, new float[0])
                .write(p);
        return Files.readAllBytes(p);
    }

    private static byte[] withHeader(String json, byte[] data, boolean pad) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int n = pad ? (h.length + 7) / 8 * 8 : h.length;
        ByteBuffer b = ByteBuffer.allocate(8 + n + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(h);
        for (int i = h.length; i < n; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        return b.array();
    }

    private static long randomNumber(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> -1;
            case 1 -> 0;
            case 2 -> Long.MAX_VALUE;
            case 3 -> Long.MIN_VALUE;
            case 4 -> Integer.MAX_VALUE + (long) r.nextInt(20) - 10;
            case 5 -> 1L << (r.nextInt(63));
            case 6 -> -r.nextInt(1000);
            case 7 -> r.nextLong();
            default -> r.nextInt(200);
        };
    }

    static byte[] mutate(byte[] base, String header, byte[] data, Random r) {
        int kind = r.nextInt(13);
        switch (kind) {
            case 0 -> { // flip random bytes anywhere
                byte[] b = base.clone();
                int k = 1 + r.nextInt(8);
                for (int i = 0; i < k; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
                return b;
            }
            case 1 -> { // flip bytes inside the header only
                byte[] b = base.clone();
                int k = 1 + r.nextInt(4);
                for (int i = 0; i < k; i++) {
                    b[8 + r.nextInt(header.length())] = (byte) r.nextInt(256);
                }
                return b;
            }
            case 2 -> { // truncate at a random point
                return Arrays.copyOf(base, r.nextInt(base.length + 1));
            }
            case 3 -> { // splice a random header length
                byte[] b = base.clone();
                long n = switch (r.nextInt(5)) {
                    case 0 -> r.nextLong();
                    case 1 -> header.length() + r.nextInt(64) - 32;
                    case 2 -> r.nextInt(base.length + 16);
                    case 3 -> (1L << 40) + r.nextInt(5);
                    default -> SafetensorsFile.MAX_HEADER_BYTES + r.nextInt(3) - 1;
                };
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
                return b;
            }
            case 4, 5, 6 -> { // rewrite one to three numbers in the header JSON, fix up the length
                String h = header;
                int k = 1 + r.nextInt(3);
                for (int j = 0; j < k; j++) {
                    Matcher m = NUMBER.matcher(h);
                    int count = 0;
                    while (m.find()) {
                        count++;
                    }
                    int target = r.nextInt(Math.max(1, count));
                    m = NUMBER.matcher(h);
                    for (int i = 0; i <= target && m.find(); i++) {
                        if (i == target) {
                            String repl = r.nextInt(8) == 0
                                    ? "99999999999999999999999" + (r.nextBoolean() ? "" : ".5")
                                    : Long.toString(randomNumber(r));
                            h = h.substring(0, m.start()) + repl + h.substring(m.end());
                        }
                    }
                }
                return withHeader(h, data, r.nextBoolean());
            }
            case 7 -> { // structural edits of the JSON text
                StringBuilder h = new StringBuilder(header.stripTrailing());
                int k = 1 + r.nextInt(3);
                String[] tokens = {"[", "]", "{", "}", ",", ":", "\"", "\\", "null", "-", "1e999", "\"F8_WEIRD\"", "\u00e9", "\u0000"};
                for (int i = 0; i < k && h.length() > 0; i++) {
                    int at = r.nextInt(h.length());
                    switch (r.nextInt(3)) {
                        case 0 -> h.deleteCharAt(at);
                        case 1 -> h.insert(at, tokens[r.nextInt(tokens.length)]);
                        default -> h.replace(at, Math.min(h.length(), at + 1 + r.nextInt(10)), tokens[r.nextInt(tokens.length)]);
                    }
                }
                return withHeader(h.toString(), data, r.nextBoolean());
            }
            case 8 -> { // swap dtype names
                String[] dts = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "", "f32"};
                Matcher m = Pattern.compile("\"dtype\":\"[A-Z0-9]+\"").matcher(header);
                StringBuilder sb = new StringBuilder();
                while (m.find()) {
                    String rep = r.nextInt(3) == 0 ? "\"dtype\":\"" + dts[r.nextInt(dts.length)] + "\"" : m.group();
                    m.appendReplacement(sb, Matcher.quoteReplacement(rep));
                }
                m.appendTail(sb);
                return withHeader(sb.toString(), data, true);
            }
            case 9 -> { // data section changed in length
                int newLen = Math.max(0, data.length + r.nextInt(65) - 32);
                byte[] d = Arrays.copyOf(data, newLen);
                return withHeader(header, d, false);
            }
            case 10 -> { // random garbage, sometimes behind a plausible length
                byte[] g = new byte[r.nextInt(300)];
                r.nextBytes(g);
                if (g.length >= 8 && r.nextBoolean()) {
                    ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putLong(0, r.nextInt(g.length));
                }
                return g;
            }
            case 11 -> { // move one tensor's byte range, keeping its size: overlaps, gaps, out of range
                Matcher m = Pattern.compile("\"data_offsets\":\\[(\\d+),(\\d+)\\]").matcher(header);
                int count = 0;
                while (m.find()) {
                    count++;
                }
                int target = r.nextInt(count);
                m.reset();
                StringBuilder sb = new StringBuilder();
                int i = 0;
                while (m.find()) {
                    String rep = m.group();
                    if (i++ == target) {
                        long b = Long.parseLong(m.group(1));
                        long e = Long.parseLong(m.group(2));
                        long delta = r.nextBoolean() ? r.nextInt(33) - 16 : r.nextInt(data.length + 1) - b;
                        rep = "\"data_offsets\":[" + (b + delta) + "," + (e + delta) + "]";
                    }
                    m.appendReplacement(sb, Matcher.quoteReplacement(rep));
                }
                m.appendTail(sb);
                return withHeader(sb.toString(), data, r.nextBoolean());
            }
            default -> { // invalid UTF-8 / control bytes spliced into the header
                byte[] b = base.clone();
                byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0x80, 0, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
                int at = 8 + r.nextInt(header.length());
                int len = 1 + r.nextInt(3);
                for (int i = 0; i < len && at + i < 8 + header.length(); i++) {
                    b[at + i] = bad[r.nextInt(bad.length)];
                }
                return b;
            }
        }
    }

    /** Opens and reads everything; returns true when the file was accepted. */
    static boolean exercise(Path file) throws SafetensorsException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String n : f.names()) {
                TensorInfo t = f.info(n);
                // invariants the reader promises after a successful open
                if (t.end() < t.begin() || t.end() > f.dataLength() || t.byteLength() != t.numel() * t.dtype().byteSize()) {
                    throw new AssertionError("accepted an invalid entry: " + t);
                }
                float[] v = f.readFloats(n);
                if (v.length != t.numel()) {
                    throw new AssertionError("wrong element count for " + t);
                }
                if (t.dtype().isIntegral()) {
                    f.readLongs(n);
                } else {
                    try {
                        f.readLongs(n);
                        throw new AssertionError("readLongs accepted " + t);
                    } catch (SafetensorsException expected) {
                        // refused as documented
                    }
                }
                ByteBuffer b = f.map(n);
                if (b.remaining() != t.byteLength()) {
                    throw new AssertionError("map length for " + t);
                }
            }
            f.metadata();
            return true;
        }
    }

    @Test
    void mutatedFilesOnlyEverThrowSafetensorsException() throws IOException {
        long seed = Long.getLong("safetensors.fuzz.seed", 0x5AFE_7E45L);
        int cases = Integer.getInteger("safetensors.fuzz.cases", 12_000);
        Path work = memoryBackedDir();
        try {
            run(work, seed, cases);
        } finally {
            if (!work.equals(tmp)) {
                try (Stream<Path> s = Files.list(work)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(work);
            }
        }
    }

    /**
     * A fresh folder on tmpfs when there is one (creating thousands of small files is ~10x faster
     * there than on a journaling disk filesystem), else the JUnit temp dir.
     */
    private Path memoryBackedDir() {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            try {
                return Files.createTempDirectory(shm, "retain-safetensors-fuzz-");
            } catch (IOException | RuntimeException e) {
                // fall back to the disk temp dir
            }
        }
        return tmp;
    }

    private void run(Path tmp, long seed, int cases) throws IOException {
        byte[] base = validBase(tmp);
        long n = Fixtures.headerLength(base);
        String header = new String(base, 8, (int) n, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(base, (int) (8 + n), base.length);
        assertTrue(exercise(tmp.resolve("base.safetensors")), "the base file must be valid");

        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < cases; i++) {
            long caseSeed = seed * 1_000_003L + i;
            Random r = new Random(caseSeed);
            byte[] bytes = mutate(base, header, data, r);
            // a fresh file per case: truncating a file that still has (unreferenced, not yet
            // collected) mappings is very slow on Linux
            Path file = tmp.resolve("case-" + i + ".safetensors");
            Files.write(file, bytes);
            try {
                if (exercise(file)) {
                    accepted++;
                }
            } catch (SafetensorsException e) {
                rejected++;
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException && !cause.getClass().getName().startsWith("com.fasterxml.")) {
                    fail("case " + i + " (seed " + caseSeed + "): a bug of ours was wrapped: " + e, e);
                }
                if (e.getMessage() == null || !e.getMessage().contains(file.getFileName().toString())) {
                    fail("case " + i + " (seed " + caseSeed + "): message does not name the file: " + e.getMessage());
                }
            } catch (Throwable t) {
                StringWriter sw = new StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                fail("case " + i + " (seed " + seed + ", case seed " + caseSeed + ", " + bytes.length
                        + " bytes, header: " + preview(bytes) + "): " + t + "\n" + sw);
            } finally {
                Files.deleteIfExists(file);
            }
        }
        System.out.printf("safetensors fuzz: seed %d, %d cases, %d accepted, %d rejected%n",
                seed, cases, accepted, rejected);
        assertEquals(cases, accepted + rejected);
        assertTrue(accepted > cases / 50, "too few mutations stay valid (" + accepted + "); the fuzzer is too blunt");
        assertTrue(rejected > cases / 2, "too few mutations were rejected (" + rejected + ")");
    }

    private static String preview(byte[] b) {
        if (b.length < 8) {
            return Arrays.toString(b);
        }
        int end = Math.min(b.length, 8 + 400);
        return new String(b, 8, end - 8, StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", "?");
    }
}
