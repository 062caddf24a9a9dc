package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer -> reader round trips, byte layout of the written file, atomic replacement. */
class RoundTripTest {

    @TempDir
    Path tmp;

    private static final float[] SPECIAL = {
        1.0f, -1.0f, 0.0f, -0.0f, (float) Math.PI, 0.1f, 65504f, 65520f, 1e-8f, 0x1p-24f, 0x1p-25f,
        Float.MIN_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000)
    };

    private static short[] shortsOf(ByteBuffer b) {
        short[] s = new short[b.remaining() / 2];
        b.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(s);
        return s;
    }

    @Test
    void allDtypesRoundTrip() throws IOException {
        Random r = new Random(1);
        float[] f32 = new float[3 * 5];
        for (int i = 0; i < f32.length; i++) {
            f32[i] = (float) r.nextGaussian();
        }
        f32[3] = Float.intBitsToFloat(0x7FC12345); // NaN with payload survives F32 bit-exactly
        f32[4] = -0.0f;
        f32[5] = Float.MIN_VALUE;
        long[] i64 = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 123456789012345L};
        long[] i32 = {Integer.MIN_VALUE, -7, 0, Integer.MAX_VALUE};
        Path file = tmp.resolve("all.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .metadata(Map.of("note", "quotes \" backslash \\ newline \n unicode \u00e9\u4e2d"))
                .addFloats("w.f32", DType.F32, new long[] {3, 5}, f32)
                .addFloats("w.f16", DType.F16, new long[] {SPECIAL.length}, SPECIAL)
                .addFloats("w.bf16", DType.BF16, new long[] {SPECIAL.length}, SPECIAL)
                .addFloats("w.f64", DType.F64, new long[] {2}, new float[] {0.1f, -3.5f})
                .addLongs("ids.i64", DType.I64, new long[] {2, 3}, i64)
                .addLongs("ids.i32", DType.I32, new long[] {4}, i32)
                .addLongs("ids.i16", DType.I16, new long[] {2}, new long[] {-32768, 32767})
                .addLongs("ids.i8", DType.I8, new long[] {2}, new long[] {-128, 127})
                .addLongs("ids.u8", DType.U8, new long[] {2}, new long[] {0, 255})
                .addLongs("mask", DType.BOOL, new long[] {3}, new long[] {1, 0, 1})
                .addFloats("scalar", DType.F32, new long[] {}, new float[] {42f})
                .addFloats("empty", DType.F32, new long[] {0, 4}, new float[0])
                .addFloats("名前.weight", DType.F32, new long[] {1}, new float[] {7f})
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            assertEquals("quotes \" backslash \\ newline \n unicode \u00e9\u4e2d", f.metadata().get("note"));
            float[] back = f.readFloats("w.f32");
            for (int i = 0; i < f32.length; i++) {
                assertEquals(Float.floatToRawIntBits(f32[i]), Float.floatToRawIntBits(back[i]), "index " + i);
            }
            assertArrayEquals(new long[] {3, 5}, f.info("w.f32").shape());

            short[] wantF16 = new short[SPECIAL.length];
            short[] wantBf16 = new short[SPECIAL.length];
            for (int i = 0; i < SPECIAL.length; i++) {
                wantF16[i] = HalfFloats.floatToF16(SPECIAL[i]);
                wantBf16[i] = HalfFloats.floatToBf16(SPECIAL[i]);
            }
            assertArrayEquals(wantF16, shortsOf(f.map("w.f16")));
            assertArrayEquals(wantBf16, shortsOf(f.map("w.bf16")));
            // hand-computed patterns for the first few specials
            short[] h = shortsOf(f.map("w.f16"));
            short[] b = shortsOf(f.map("w.bf16"));
            assertEquals(0x3C00, h[0] & 0xFFFF);
            assertEquals(0x3F80, b[0] & 0xFFFF);
            assertEquals(0xBC00, h[1] & 0xFFFF);
            assertEquals(0x8000, h[3] & 0xFFFF);
            assertEquals(0x4049, b[4] & 0xFFFF);
            assertEquals(0x2E66, h[5] & 0xFFFF);
            assertEquals(0x7BFF, h[6] & 0xFFFF);
            assertEquals(0x7C00, h[7] & 0xFFFF);
            assertEquals(0x0000, h[8] & 0xFFFF); // 1e-8 underflows
            assertEquals(0x0001, h[9] & 0xFFFF);
            assertEquals(0x0000, h[10] & 0xFFFF);
            assertEquals(0x7F80, b[12] & 0xFFFF); // FLT_MAX -> inf in BF16
            assertEquals(0x7C00, h[13] & 0xFFFF);
            assertEquals(0xFC00, h[14] & 0xFFFF);
            assertEquals(0x3F80, b[16] & 0xFFFF);
            assertEquals(0x3F82, b[17] & 0xFFFF);

            float[] f16back = f.readFloats("w.f16");
            float[] bf16back = f.readFloats("w.bf16");
            assertEquals(1.0f, f16back[0]);
            assertEquals(1.0f, bf16back[0]);
            assertEquals(65504f, f16back[6]);
            assertEquals(0x1p-24f, f16back[9]);
            assertTrue(Float.isNaN(f16back[15]) && Float.isNaN(bf16back[15]));
            assertEquals(Float.POSITIVE_INFINITY, f16back[13]);

            assertArrayEquals(new float[] {0.1f, -3.5f}, f.readFloats("w.f64"));
            assertEquals((double) 0.1f, f.map("w.f64").getDouble(0), 0.0);
            assertArrayEquals(i64, f.readLongs("ids.i64"));
            assertArrayEquals(i32, f.readLongs("ids.i32"));
            assertArrayEquals(new long[] {-32768, 32767}, f.readLongs("ids.i16"));
            assertArrayEquals(new long[] {-128, 127}, f.readLongs("ids.i8"));
            assertArrayEquals(new long[] {0, 255}, f.readLongs("ids.u8"));
            assertArrayEquals(new float[] {0, 255}, f.readFloats("ids.u8"));
            assertArrayEquals(new long[] {1, 0, 1}, f.readLongs("mask"));
            assertArrayEquals(new float[] {42f}, f.readFloats("scalar"));
            assertEquals(0, f.info("scalar").rank());
            assertEquals(0, f.readFloats("empty").length);
            assertEquals(0, f.map("empty").remaining());
            assertArrayEquals(new float[] {7f}, f.readFloats("名前.weight"));
        }
    }

    @Test
    void headerLayoutFollowsReferenceImplementation() throws IOException {
        Path file = tmp.resolve("layout.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .addFloats("b", DType.F16, new long[] {3}, new float[] {1, 2, 3})
                .addFloats("a", DType.F32, new long[] {2}, new float[] {1, 2})
                .addLongs("c", DType.I64, new long[] {1}, new long[] {5})
                .write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = Fixtures.headerLength(bytes);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = Fixtures.headerText(bytes);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[8,14]},"
                + "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[14,22]}}";
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        assertEquals(8 + n + 22, bytes.length);
        assertEquals(1.0f, Fixtures.floatAt(bytes, 8 + n));
        assertEquals(2.0f, Fixtures.floatAt(bytes, 8 + n + 4));
        assertEquals(0x3C00, (bytes[(int) (8 + n + 8)] & 0xFF) | (bytes[(int) (8 + n + 9)] & 0xFF) << 8);
        assertEquals(5L, Fixtures.longAt(bytes, 8 + n + 14));
    }

    @Test
    void rewritingTheReferenceFileReproducesItExactly() throws IOException {
        Path out = tmp.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
            for (String name : f.names()) {
                TensorInfo t = f.info(name);
                w.add(TensorData.ofBuffer(name, t.dtype(), t.shape(), f.map(name)));
            }
            w.write(out);
            try (SafetensorsFile g = SafetensorsFile.open(out)) {
                assertEquals(f.names(), g.names());
                assertEquals(f.metadata(), g.metadata());
                for (String name : f.names()) {
                    assertEquals(f.map(name), g.map(name), name);
                    assertArrayEquals(f.info(name).shape(), g.info(name).shape());
                }
            }
        }
        // same layout rules as Python safetensors for an all-F32 file: byte-identical output
        assertArrayEquals(Files.readAllBytes(Fixtures.REF_MODEL), Files.readAllBytes(out));

        // and via float[] (read, convert, write) as well
        Path viaFloats = tmp.resolve("via-floats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
            for (String name : f.names()) {
                w.addFloats(name, DType.F32, f.info(name).shape(), f.readFloats(name));
            }
            w.write(viaFloats);
        }
        assertArrayEquals(Files.readAllBytes(Fixtures.REF_MODEL), Files.readAllBytes(viaFloats));
    }

    @Test
    void bf16RewriteIsStable() throws IOException {
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        float[] vals = new float[1000];
        Random r = new Random(3);
        for (int i = 0; i < vals.length; i++) {
            vals[i] = (float) r.nextGaussian() * 100;
        }
        new SafetensorsWriter().addFloats("x", DType.BF16, new long[] {10, 100}, vals).write(a);
        try (SafetensorsFile f = SafetensorsFile.open(a)) {
            new SafetensorsWriter().addFloats("x", DType.BF16, new long[] {10, 100}, f.readFloats("x")).write(b);
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void overwriteIsAtomicAndLeavesNoTempFiles() throws IOException {
        Path file = tmp.resolve("m.safetensors");
        new SafetensorsWriter().addFloats("x", DType.F32, new long[] {1}, new float[] {1}).write(file);
        new SafetensorsWriter().addFloats("y", DType.F32, new long[] {1}, new float[] {2}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("y"), f.names());
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(file.getFileName()), s.map(Path::getFileName).toList());
        }
    }

    @Test
    void failedWriteDeletesTempFileAndNamesThePath() throws IOException {
        Path target = tmp.resolve("blocked.safetensors");
        Files.createDirectories(target.resolve("child")); // a non-empty directory cannot be replaced
        SafetensorsException e = assertThrows(SafetensorsException.class, () ->
                new SafetensorsWriter().addFloats("x", DType.F32, new long[] {1}, new float[] {1}).write(target));
        assertTrue(e.getMessage().contains("blocked.safetensors"), e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(target.getFileName()), s.map(Path::getFileName).toList());
        }
        e = assertThrows(SafetensorsException.class, () ->
                new SafetensorsWriter().write(tmp.resolve("no/such/dir/x.safetensors")));
        assertTrue(e.getMessage().contains("x.safetensors") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("x", DType.F32, new long[] {2}, new float[2]);
        assertThrows(IllegalArgumentException.class, () -> w.addFloats("x", DType.F32, new long[] {2}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("y", DType.F32, new long[] {3}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("y", DType.I32, new long[] {2}, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofLongs("y", DType.F32, new long[] {1}, new long[1]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofLongs("y", DType.I32, new long[] {1}, new long[] {1L << 40}));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofLongs("y", DType.U8, new long[] {1}, new long[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofLongs("y", DType.BOOL, new long[] {1}, new long[] {2}));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofBytes("y", DType.F32, new long[] {2}, new byte[7]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("__metadata__", DType.F32, new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("y", DType.F32, new long[] {-1}, new float[0]));
        assertThrows(IllegalArgumentException.class, () ->
                TensorData.ofBytes("y", DType.F32, new long[] {1L << 62, 4}, new byte[0]));
    }

    @Test
    void dtypeParse() {
        for (DType d : DType.values()) {
            assertEquals(d, DType.parse(d.name()));
        }
        assertEquals(null, DType.parse("F8_WEIRD"));
        assertEquals(null, DType.parse("f32"));
        assertEquals(null, DType.parse(null));
        assertEquals(2, DType.BF16.byteSize());
        assertEquals(8, DType.I64.byteSize());
        assertEquals(1, DType.BOOL.byteSize());
    }
}
