package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each malformed file must fail to open with a SafetensorsException naming the file and the problem. */
class CorruptFileTest {

    @TempDir
    Path tmp;

    private static final String NORM = "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,256]}";

    private static byte[] one(String entryJson, int dataBytes) {
        return Fixtures.raw("{" + entryJson + "}", new byte[dataBytes]);
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    static Stream<Arguments> cases() throws IOException {
        byte[] real = Files.readAllBytes(Fixtures.REF_MODEL);
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                Arguments.of("empty file", new byte[0], "only 0 bytes"),
                Arguments.of("shorter than 8 bytes", new byte[] {1, 0, 0, 0, 0}, "only 5 bytes"),
                Arguments.of("truncated real file", Arrays.copyOf(real, real.length / 2), "truncated"),
                Arguments.of("truncated inside header", Arrays.copyOf(real, 1000), "only 992 bytes follow"),
                Arguments.of("header length past end", Fixtures.raw(1000, header, new byte[10]), "only 12 bytes follow"),
                Arguments.of("header length above bound", Fixtures.raw(1L << 40, header, new byte[10]), "above the limit"),
                Arguments.of("header length negative as signed", Fixtures.raw(-1L, header, new byte[0]), "18446744073709551615"),
                Arguments.of("header length zero", Fixtures.raw(0, new byte[0], new byte[4]), "too short"),
                Arguments.of("git lfs pointer", "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"
                        .getBytes(StandardCharsets.US_ASCII), "git lfs pull"),
                Arguments.of("invalid JSON", Fixtures.raw("{\"a\":{\"dtype\":", new byte[0]), "not valid JSON"),
                Arguments.of("invalid JSON garbage", Fixtures.raw("hello world", new byte[0]), "not valid JSON"),
                Arguments.of("JSON array", Fixtures.raw("[1,2,3]", new byte[0]), "expected a JSON object"),
                Arguments.of("trailing content", Fixtures.raw("{}{}", new byte[0]), "extra content"),
                Arguments.of("invalid UTF-8", Fixtures.raw(2 + 2, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}, new byte[0]), "UTF-8"),
                Arguments.of("unknown dtype", one(entry("w", "F8_WEIRD", "[4]", "[0,4]"), 4), "unsupported dtype 'F8_WEIRD'"),
                Arguments.of("dtype not string", one("\"w\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}", 4), "\"dtype\" is a JSON number"),
                Arguments.of("entry not object", one("\"w\":[1,2]", 0), "tensor 'w': header entry is a JSON array"),
                Arguments.of("missing dtype", one("\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}", 4), "no \"dtype\""),
                Arguments.of("missing shape", one("\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", 4), "no \"shape\""),
                Arguments.of("missing offsets", one("\"w\":{\"dtype\":\"F32\",\"shape\":[1]}", 4), "no \"data_offsets\""),
                Arguments.of("offsets out of range", one(entry("w", "F32", "[4]", "[0,16]"), 8), "past the end of the data section"),
                Arguments.of("offsets huge", one(entry("w", "F32", "[4]", "[9223372036854775800,9223372036854775807]"), 8), "past the end"),
                Arguments.of("offsets reversed", one(entry("w", "F32", "[0]", "[8,4]"), 8), "end before they begin"),
                Arguments.of("offsets three numbers", one(entry("w", "F32", "[1]", "[0,4,8]"), 8), "more than 2 entries"),
                Arguments.of("offsets one number", one(entry("w", "F32", "[1]", "[4]"), 8), "exactly two"),
                Arguments.of("offsets negative", one(entry("w", "F32", "[1]", "[-4,0]"), 8), "negative"),
                Arguments.of("offsets fractional", one(entry("w", "F32", "[1]", "[0,4.0]"), 8), "4.0"),
                Arguments.of("offsets beyond 64 bits", one(entry("w", "F32", "[1]", "[0,99999999999999999999999]"), 8), "does not fit in 64 bits"),
                Arguments.of("overlapping tensors", Fixtures.raw("{" + entry("a", "F32", "[4]", "[0,16]") + ","
                        + entry("b", "F32", "[2]", "[8,16]") + "}", new byte[16]), "overlap"),
                Arguments.of("identical ranges", Fixtures.raw("{" + entry("a", "F32", "[4]", "[0,16]") + ","
                        + entry("b", "I32", "[4]", "[0,16]") + "}", new byte[16]), "overlap"),
                Arguments.of("byte count mismatch", Fixtures.raw("{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],"
                        + "\"data_offsets\":[0,100]}}", new byte[256]),
                        "tensor 'model.norm.weight' has data_offsets [0, 100] (100 bytes) but shape [64] x F32 needs 256 bytes"),
                Arguments.of("negative dim", one(entry("w", "F32", "[-4]", "[0,16]"), 16), "negative dimension"),
                Arguments.of("shape overflow", one(entry("w", "F32", "[4294967296,4294967296]", "[0,16]"), 16), "overflows 64 bits"),
                Arguments.of("shape not array", one(entry("w", "F32", "4", "[0,16]"), 16), "\"shape\" is a JSON number"),
                Arguments.of("duplicate tensor", Fixtures.raw("{" + NORM + "," + NORM + "}", new byte[256]), "twice"),
                Arguments.of("metadata not strings", Fixtures.raw("{\"__metadata__\":{\"epoch\":3}}", new byte[0]), "must be strings"),
                Arguments.of("metadata not object", Fixtures.raw("{\"__metadata__\":[1]}", new byte[0]), "\"__metadata__\" is a JSON array"),
                Arguments.of("deep nesting", Fixtures.raw("{\"w\":{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}}", new byte[0]), "not valid JSON"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejected(String label, byte[] bytes, String expected) throws IOException {
        Path file = tmp.resolve(label.replace(' ', '_') + ".safetensors");
        Files.write(file, bytes);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close());
        String m = e.getMessage();
        assertTrue(m.contains(file.getFileName().toString()), "message must name the file: " + m);
        assertTrue(m.contains(expected), "expected '" + expected + "' in: " + m);
    }

    @Test
    void validEdgeCasesAreAccepted() throws IOException {
        // empty header object, gaps between tensors, zero-size tensors, unknown extra fields, null metadata
        byte[][] ok = {
            Fixtures.raw("{}", new byte[0]),
            Fixtures.raw("{\"__metadata__\":null}", new byte[0]),
            Fixtures.raw("{}      ", new byte[5]),
            Fixtures.raw("{" + entry("a", "F32", "[1]", "[4,8]") + "," + entry("b", "F32", "[1]", "[12,16]") + "}", new byte[20]),
            Fixtures.raw("{" + entry("a", "F32", "[0]", "[4,4]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}", new byte[8]),
            Fixtures.raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"extra\":{\"x\":[1]}}}", new byte[2]),
        };
        for (int i = 0; i < ok.length; i++) {
            Path file = tmp.resolve("ok" + i + ".safetensors");
            Files.write(file, ok[i]);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (String n : f.names()) {
                    f.readFloats(n);
                }
            }
        }
    }
}
