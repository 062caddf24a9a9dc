package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Reads the real Hugging Face reference files produced by Python safetensors. */
class ReferenceFileTest {

    private static List<String> expectedNames() {
        List<String> names = new ArrayList<>(List.of("lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"));
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            for (String s : List.of("input_layernorm.weight", "post_attention_layernorm.weight",
                    "mlp.down_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                    "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                    "self_attn.o_proj.weight")) {
                names.add(p + s);
            }
        }
        names.sort(null);
        return names;
    }

    private static long[] expectedShape(String name) {
        // hidden 64, intermediate 176, vocab 256 (config.json)
        if (name.equals("lm_head.weight") || name.equals("model.embed_tokens.weight")) {
            return new long[] {256, 64};
        }
        if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) {
            return new long[] {64};
        }
        if (name.endsWith("down_proj.weight")) {
            return new long[] {64, 176};
        }
        if (name.endsWith("gate_proj.weight") || name.endsWith("up_proj.weight")) {
            return new long[] {176, 64};
        }
        return new long[] {64, 64};
    }

    @Test
    void modelHeaderMatchesConfig() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            assertEquals(21, f.names().size());
            assertEquals(expectedNames(), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
            for (String n : f.names()) {
                TensorInfo t = f.info(n);
                assertEquals(DType.F32, t.dtype(), n);
                assertArrayEquals(expectedShape(n), t.shape(), n);
                assertEquals(t.numel() * 4, t.byteLength(), n);
                assertTrue(f.contains(n));
            }
            TensorInfo lm = f.info("lm_head.weight");
            assertArrayEquals(new long[] {256, 64}, lm.shape());
            assertEquals(0, lm.begin());
            assertEquals(65536, lm.end());
            assertFalse(f.contains("model.layers.2.input_layernorm.weight"));
        }
    }

    @Test
    void everyTensorMatchesHandDecodedBytes() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.REF_MODEL);
        long n = Fixtures.headerLength(bytes);
        assertEquals(2136, n);
        String header = Fixtures.headerText(bytes);
        long dataStart = 8 + n;
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            for (String name : f.names()) {
                long[] off = Fixtures.offsetsByHand(header, name);
                float[] got = f.readFloats(name);
                assertEquals((off[1] - off[0]) / 4, got.length, name);
                for (int i = 0; i < got.length; i++) {
                    float want = Fixtures.floatAt(bytes, dataStart + off[0] + 4L * i);
                    if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i])) {
                        throw new AssertionError(name + "[" + i + "]: " + got[i] + " != " + want);
                    }
                }
            }
            // spot checks by element position, per the init described in manifest.json
            float[] norm = f.readFloats("model.norm.weight");
            long[] off = Fixtures.offsetsByHand(header, "model.norm.weight");
            assertEquals(Fixtures.floatAt(bytes, dataStart + off[0]), norm[0]);
            assertEquals(Fixtures.floatAt(bytes, dataStart + off[0] + 4 * 63), norm[63]);
            double mean = 0;
            for (float v : norm) {
                mean += v / 64.0;
            }
            assertTrue(mean > 0.8 && mean < 1.2, "norm weights are 1 + 0.1 N(0,1), mean was " + mean);
            float[] lm = f.readFloats("lm_head.weight");
            assertEquals(Fixtures.floatAt(bytes, dataStart + 4L * (17 * 64 + 5)), lm[17 * 64 + 5]);
        }
    }

    @Test
    void chunkedAndSliceReadsAgree() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            String name = "model.layers.1.mlp.down_proj.weight";
            float[] all = f.readFloats(name);
            assertArrayEquals(all, f.readFloats(name, 100));   // 25 floats per chunk
            assertArrayEquals(all, f.readFloats(name, 4));     // one float per chunk
            assertArrayEquals(all, f.readFloats(name, 7));     // rounds down to one float
            assertArrayEquals(java.util.Arrays.copyOfRange(all, 1000, 1100), f.readFloats(name, 1000, 100));
            assertArrayEquals(new float[0], f.readFloats(name, all.length, 0));
            assertThrows(SafetensorsException.class, () -> f.readFloats(name, all.length - 1, 2));
            assertThrows(SafetensorsException.class, () -> f.readFloats(name, -1, 2));
        }
    }

    @Test
    void mapGivesReadOnlyLittleEndianView() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.REF_MODEL);
        long dataStart = 8 + Fixtures.headerLength(bytes);
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL)) {
            TensorInfo t = f.info("model.norm.weight");
            ByteBuffer b = f.map("model.norm.weight");
            assertTrue(b.isReadOnly());
            assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
            assertEquals(256, b.remaining());
            assertEquals(Fixtures.floatAt(bytes, dataStart + t.begin() + 8), b.getFloat(8));
        }
    }

    @Test
    void inputsAreI64() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.REF_INPUTS);
        long dataStart = 8 + Fixtures.headerLength(bytes);
        long[] off = Fixtures.offsetsByHand(Fixtures.headerText(bytes), "input_ids");
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_INPUTS)) {
            assertEquals(List.of("input_ids"), f.names());
            TensorInfo t = f.info("input_ids");
            assertEquals(DType.I64, t.dtype());
            assertArrayEquals(new long[] {2, 24}, t.shape());
            long[] ids = f.readLongs("input_ids");
            assertEquals(48, ids.length);
            for (int i = 0; i < 48; i++) {
                assertEquals(Fixtures.longAt(bytes, dataStart + off[0] + 8L * i), ids[i]);
                assertTrue(ids[i] >= 0 && ids[i] < 256);
            }
            assertEquals(1, ids[0], "row 0 starts with bos");
            assertEquals(1, ids[24], "row 1 starts with bos");
            float[] asFloats = f.readFloats("input_ids");
            for (int i = 0; i < 48; i++) {
                assertEquals((float) ids[i], asFloats[i]);
            }
        }
    }

    @Test
    void misuseGivesClearErrors() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(Fixtures.REF_MODEL);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.readLongs("lm_head.weight"));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("readFloats"), e.getMessage());
        e = assertThrows(SafetensorsException.class, () -> f.info("norm.weight"));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("'norm.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'model.norm.weight'"), e.getMessage());
        f.close();
        e = assertThrows(SafetensorsException.class, () -> f.readFloats("lm_head.weight"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(Fixtures.REF_MODEL_DIR));
        assertTrue(e.getMessage().contains("directory"), e.getMessage());
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(Fixtures.REF_DIR.resolve("nope.safetensors")));
        assertTrue(e.getMessage().contains("nope.safetensors"), e.getMessage());
    }

    @Test
    void allReferenceFilesOpenAndRead() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(Fixtures.REF_DIR)) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(files.size() >= 10, "found " + files);
        for (Path p : files) {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertFalse(f.names().isEmpty(), p.toString());
                for (String n : f.names()) {
                    TensorInfo t = f.info(n);
                    assertEquals(t.numel(), t.dtype().isFloatingPoint() ? f.readFloats(n).length : f.readLongs(n).length);
                }
            }
        }
    }

    @Test
    void referenceFolderOpensAsCheckpoint() throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(Fixtures.REF_MODEL_DIR)) {
            assertEquals(expectedNames(), c.names());
            assertTrue(c.indexFile().isEmpty());
            assertEquals(DType.F32, c.dtypeOf("model.norm.weight"));
            assertArrayEquals(new long[] {176, 64}, c.info("model.layers.0.mlp.up_proj.weight").shape());
            assertEquals(64, c.readFloats("model.norm.weight").length);
        }
    }
}
