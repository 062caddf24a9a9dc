package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded and single-file model folders. */
class CheckpointTest {

    @TempDir
    Path tmp;

    /** Ten F32 tensors of 250 floats (1000 bytes) each, plus one I64 tensor of 8 bytes. */
    private static List<TensorData> tensors() {
        List<TensorData> list = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            float[] v = new float[250];
            for (int j = 0; j < v.length; j++) {
                v[j] = i * 1000 + j;
            }
            list.add(TensorData.ofFloats("layers." + i + ".weight", DType.F32, new long[] {25, 10}, v));
        }
        list.add(TensorData.ofLongs("step", DType.I64, new long[] {1}, new long[] {77}));
        return list;
    }

    private static List<String> listDir(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void assertContents(SafetensorsCheckpoint c) throws IOException {
        assertEquals(11, c.names().size());
        for (int i = 0; i < 10; i++) {
            float[] v = c.readFloats("layers." + i + ".weight");
            assertEquals(250, v.length);
            assertEquals(i * 1000 + 249, v[249]);
            assertEquals(DType.F32, c.dtypeOf("layers." + i + ".weight"));
            assertArrayEquals(new long[] {25, 10}, c.info("layers." + i + ".weight").shape());
        }
        assertArrayEquals(new long[] {77}, c.readLongs("step"));
        assertEquals(DType.I64, c.dtypeOf("step"));
        assertTrue(c.contains("step"));
        assertFalse(c.contains("nope"));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> c.readFloats("nope"));
        assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(tmp.getFileName().toString()), e.getMessage());
    }

    @Test
    void shardedWriteAndRead() throws IOException {
        Path dir = tmp.resolve("sharded");
        List<Path> written = SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of("format", "pt"), 2500);
        List<String> expected = List.of("model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors",
                "model-00005-of-00005.safetensors", "model.safetensors.index.json");
        assertEquals(expected, listDir(dir));
        assertEquals(6, written.size());
        assertEquals(dir.resolve("model.safetensors.index.json"), written.get(5));

        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(10008, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00001-of-00005.safetensors", index.get("weight_map").get("layers.0.weight").asText());
        assertEquals("model-00005-of-00005.safetensors", index.get("weight_map").get("step").asText());
        assertEquals(11, index.get("weight_map").size());
        for (int i = 1; i <= 5; i++) {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(expected.get(i - 1)))) {
                assertEquals("pt", f.metadata().get("format"));
                assertTrue(f.dataLength() <= 2500, "shard " + i + " has " + f.dataLength());
            }
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertContents(c);
            assertEquals(5, c.files().size());
            assertEquals(dir.resolve("model.safetensors.index.json"), c.indexFile().orElseThrow());
            assertEquals("pt", c.metadata().get("format"));
        }
    }

    @Test
    void singleFileWhenItFitsAndStaleLayoutIsRemoved() throws IOException {
        Path dir = tmp.resolve("m");
        SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of(), 2500);
        assertEquals(6, listDir(dir).size());
        List<Path> written = SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of("format", "pt"), 1L << 30);
        assertEquals(List.of(dir.resolve("model.safetensors")), written);
        assertEquals(List.of("model.safetensors"), listDir(dir));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertContents(c);
            assertTrue(c.indexFile().isEmpty());
        }
        // and back to shards, with a different shard count: the single file and old shards go away
        SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of(), 5000);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"), listDir(dir));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertContents(c);
        }
    }

    @Test
    void oversizedTensorGetsItsOwnShard() throws IOException {
        Path dir = tmp.resolve("big");
        SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of(), 600);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertEquals(11, c.files().size());
            assertContents(c);
        }
    }

    private Path shardedFixture() throws IOException {
        Path dir = tmp.resolve("fixture");
        SafetensorsCheckpoint.writeSharded(dir, tensors(), Map.of(), 2500);
        return dir;
    }

    private static void editIndex(Path dir, String from, String to) throws IOException {
        Path idx = dir.resolve("model.safetensors.index.json");
        String s = Files.readString(idx);
        assertTrue(s.contains(from), s);
        Files.writeString(idx, s.replace(from, to));
    }

    private static SafetensorsException openFails(Path dir) {
        return assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir).close());
    }

    @Test
    void indexPointingToMissingShard() throws IOException {
        Path dir = shardedFixture();
        Files.delete(dir.resolve("model-00003-of-00005.safetensors"));
        String m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json"), m);
        assertTrue(m.contains("'layers.4.weight'"), m);
        assertTrue(m.contains("model-00003-of-00005.safetensors") && m.contains("does not exist"), m);
    }

    @Test
    void indexListingTensorMissingFromShard() throws IOException {
        Path dir = shardedFixture();
        editIndex(dir, "\"layers.3.weight\": \"model-00002-of-00005.safetensors\"",
                "\"layers.3.weight\": \"model-00001-of-00005.safetensors\"");
        String m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json"), m);
        assertTrue(m.contains("'layers.3.weight'") && m.contains("model-00001-of-00005.safetensors"), m);
        assertTrue(m.contains("has no tensor"), m);
    }

    @Test
    void brokenIndexFiles() throws IOException {
        Path dir = shardedFixture();
        Path idx = dir.resolve("model.safetensors.index.json");
        String good = Files.readString(idx);

        Files.writeString(idx, good.substring(0, good.length() / 2));
        String m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("not valid JSON"), m);

        Files.writeString(idx, "{\"metadata\": {}}");
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("weight_map"), m);

        Files.writeString(idx, "[1, 2]");
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("object"), m);

        Files.writeString(idx, "{\"weight_map\": {\"a\": 5}}");
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("'a'"), m);

        Files.writeString(idx, "{\"weight_map\": {\"a\": \"../outside.safetensors\"}}");
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json") && m.contains("'a'") && m.contains("plain file name"), m);

        Files.writeString(idx, "{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}");
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model.safetensors.index.json"), m);

        // a corrupt shard: the error names the shard file
        Files.writeString(idx, good);
        Files.write(dir.resolve("model-00002-of-00005.safetensors"), new byte[] {1, 2, 3});
        m = openFails(dir).getMessage();
        assertTrue(m.contains("model-00002-of-00005.safetensors") && m.contains("only 3 bytes"), m);
    }

    @Test
    void folderLookupRules() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(empty.resolve("config.json"), "{}");
        Files.writeString(empty.resolve("pytorch_model.bin"), "x");
        String m = openFails(empty).getMessage();
        assertTrue(m.contains("empty") && m.contains("config.json") && m.contains("pytorch_model.bin")
                && m.contains("model.safetensors"), m);

        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        new SafetensorsWriter().addFloats("a", DType.F32, new long[] {1}, new float[] {3}).write(adapter.resolve("adapter_model.safetensors"));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(adapter)) {
            assertArrayEquals(new float[] {3}, c.readFloats("a"));
        }
        new SafetensorsWriter().addFloats("b", DType.F32, new long[] {1}, new float[] {4}).write(adapter.resolve("other.safetensors"));
        m = openFails(adapter).getMessage();
        assertTrue(m.contains("adapter_model.safetensors") && m.contains("other.safetensors") && m.contains("index"), m);

        m = openFails(tmp.resolve("missing")).getMessage();
        assertTrue(m.contains("missing") && m.contains("no such directory"), m);

        Path file = adapter.resolve("other.safetensors");
        m = openFails(file).getMessage();
        assertTrue(m.contains("other.safetensors") && m.contains("not a model folder"), m);
    }

    @Test
    void writeShardedRejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> SafetensorsCheckpoint.writeSharded(tmp, tensors(), Map.of(), 0));
        List<TensorData> dup = new ArrayList<>(tensors());
        dup.add(dup.get(0));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsCheckpoint.writeSharded(tmp, dup, Map.of(), 100));
    }

    @Test
    void indexIsHuggingFaceStyleJson() throws IOException {
        Path dir = shardedFixture();
        String s = Files.readString(dir.resolve("model.safetensors.index.json"), StandardCharsets.UTF_8);
        assertTrue(s.startsWith("{\n  \"metadata\": {\n    \"total_size\": 10008\n  },\n  \"weight_map\": {\n"), s);
        assertTrue(s.contains("\n    \"layers.0.weight\": \"model-00001-of-00005.safetensors\",\n"), s);
    }
}
