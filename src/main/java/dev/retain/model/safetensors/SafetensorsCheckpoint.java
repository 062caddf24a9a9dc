package dev.retain.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A model folder holding weights as one {@code model.safetensors} or as Hugging Face shards
 * ({@code model-00001-of-0000N.safetensors} plus {@code model.safetensors.index.json}).
 *
 * <p>Why: callers want "the tensor called X" without caring how the checkpoint was split. Opening
 * validates the index against the shards up front (every shard exists, every listed tensor is in
 * its shard), so a half-copied or mismatched folder fails immediately with a message naming the
 * index file and the offending key, not later in the middle of training. Writing mirrors the
 * Hugging Face layout so the result loads in {@code transformers} unchanged.
 *
 * <p>Lookup order when opening: the index if present; else {@code model.safetensors}; else the
 * only {@code *.safetensors} file in the folder. With an index, only tensors named in its
 * {@code weight_map} are visible.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

    /** Hugging Face index file name. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Hugging Face single-file weights name. */
    public static final String SINGLE_FILE = "model.safetensors";

    private static final long MAX_INDEX_BYTES = 100_000_000L;
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path dir;
    private final Path index;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<String> names;

    private SafetensorsCheckpoint(Path dir, Path index, List<SafetensorsFile> files,
                                  Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.index = index;
        this.files = List.copyOf(files);
        this.byTensor = Collections.unmodifiableMap(byTensor);
        this.names = List.copyOf(byTensor.keySet());
    }

    /** Opens and validates the checkpoint in {@code dir}. */
    public static SafetensorsCheckpoint open(Path dir) throws SafetensorsException {
        Objects.requireNonNull(dir, "dir");
        if (!Files.exists(dir)) {
            throw new SafetensorsException(dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new SafetensorsException(dir + ": is a file, not a model folder; use"
                    + " SafetensorsFile.open for a single file or pass the folder that contains it");
        }
        Path idx = dir.resolve(INDEX_FILE);
        if (Files.exists(idx)) {
            return openIndexed(dir, idx);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.exists(single)) {
            return openSingle(dir, single);
        }
        List<String> all = new ArrayList<>();
        List<String> safetensors = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                all.add(n);
                if (n.endsWith(".safetensors") && !n.startsWith(".") && Files.isRegularFile(p)) {
                    safetensors.add(n);
                }
            }
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list the folder: " + e, e);
        }
        Collections.sort(all);
        Collections.sort(safetensors);
        if (safetensors.size() == 1) {
            return openSingle(dir, dir.resolve(safetensors.get(0)));
        }
        if (safetensors.size() > 1) {
            throw new SafetensorsException(dir + ": has " + safetensors.size() + " .safetensors files "
                    + listing(safetensors) + " but no " + INDEX_FILE + " to say which tensor is in"
                    + " which; add the index file (as saved by transformers) or keep a single "
                    + SINGLE_FILE);
        }
        throw new SafetensorsException(dir + ": no weights found: expected " + INDEX_FILE + ", "
                + SINGLE_FILE + " or one *.safetensors file; the folder contains "
                + (all.isEmpty() ? "nothing" : listing(all))
                + (all.stream().anyMatch(n -> n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth"))
                        ? "; PyTorch pickle checkpoints are not supported, convert them to safetensors first"
                        : ""));
    }

    private static String listing(List<String> names) {
        int max = 30;
        String s = names.stream().limit(max).collect(Collectors.joining(", ", "[", ""));
        return s + (names.size() > max ? ", ... (" + (names.size() - max) + " more)]" : "]");
    }

    private static SafetensorsCheckpoint openSingle(Path dir, Path file) throws SafetensorsException {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> map = new TreeMap<>();
        for (String n : f.names()) {
            map.put(n, f);
        }
        return new SafetensorsCheckpoint(dir, null, List.of(f), map);
    }

    private static SafetensorsCheckpoint openIndexed(Path dir, Path idx) throws SafetensorsException {
        JsonNode root;
        try {
            long size = Files.size(idx);
            if (size > MAX_INDEX_BYTES) {
                throw new SafetensorsException(idx + ": index file is " + size + " bytes, above the "
                        + MAX_INDEX_BYTES + "-byte limit; it is not a valid index");
            }
            byte[] bytes = Files.readAllBytes(idx);
            root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (SafetensorsException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(idx + ": not valid JSON: " + e.getOriginalMessage()
                    + "; re-download the index or re-save the checkpoint", e);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(idx + ": cannot read the index: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(idx + ": expected a JSON object with \"weight_map\", found "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null) {
            throw new SafetensorsException(idx + ": has no \"weight_map\"; a Hugging Face index maps each"
                    + " tensor name to its shard file under \"weight_map\"");
        }
        if (!wm.isObject()) {
            throw new SafetensorsException(idx + ": \"weight_map\" is a " + wm.getNodeType().toString().toLowerCase()
                    + ", expected an object of tensor name -> shard file name");
        }
        JsonNode md = root.get("metadata");
        if (md != null && !md.isObject() && !md.isNull()) {
            throw new SafetensorsException(idx + ": \"metadata\" is a " + md.getNodeType().toString().toLowerCase()
                    + ", expected an object");
        }
        Map<String, List<String>> byShard = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : wm.properties()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new SafetensorsException(idx + ": weight_map key '" + key + "' maps to a "
                        + v.getNodeType().toString().toLowerCase() + ", expected a shard file name string");
            }
            String shard = v.textValue();
            if (!isPlainFileName(shard)) {
                throw new SafetensorsException(idx + ": weight_map key '" + key + "' names shard '" + shard
                        + "', which is not a plain file name in the model folder; shards must sit next"
                        + " to the index");
            }
            byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(key);
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        Map<String, SafetensorsFile> byTensor = new TreeMap<>();
        boolean ok = false;
        try {
            for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
                String shard = e.getKey();
                List<String> keys = e.getValue();
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsException(idx + ": weight_map key '" + keys.get(0) + "'"
                            + (keys.size() > 1 ? " (and " + (keys.size() - 1) + " more)" : "")
                            + " points to shard '" + shard + "', which does not exist in " + dir
                            + "; the download or copy is incomplete, fetch the missing shard");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (String k : keys) {
                    if (!f.contains(k)) {
                        throw new SafetensorsException(idx + ": weight_map key '" + k + "' points to shard '"
                                + shard + "', but that shard has no tensor '" + k + "' (it has "
                                + f.names().size() + " tensors); the index and the shards do not belong"
                                + " together, re-download or re-save the checkpoint");
                    }
                    byTensor.put(k, f);
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                for (SafetensorsFile f : opened) {
                    try {
                        f.close();
                    } catch (IOException ignored) {
                        // already failing
                    }
                }
            }
        }
        return new SafetensorsCheckpoint(dir, idx, opened, byTensor);
    }

    private static boolean isPlainFileName(String s) {
        return !s.isEmpty() && !s.equals(".") && !s.equals("..") && s.indexOf('/') < 0
                && s.indexOf('\\') < 0 && s.indexOf('\0') < 0 && !s.contains(":");
    }

    // ------------------------------------------------------------------ accessors

    /** The model folder. */
    public Path directory() {
        return dir;
    }

    /** The index file, if the checkpoint is sharded. */
    public Optional<Path> indexFile() {
        return Optional.ofNullable(index);
    }

    /** The weight files in use, in file-name order. */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /** Tensor names in sorted order. */
    public List<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    /**
     * The {@code __metadata__} of the first weight file (writeSharded puts the same metadata in
     * every shard).
     */
    public Map<String, String> metadata() {
        return files.isEmpty() ? Map.of() : files.get(0).metadata();
    }

    /** The open file holding {@code name}. */
    public SafetensorsFile fileOf(String name) throws SafetensorsException {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new SafetensorsException(dir + ": checkpoint has no tensor named '" + name + "' ("
                    + byTensor.size() + " tensors" + (index != null ? " listed in " + INDEX_FILE : "") + ")");
        }
        return f;
    }

    public TensorInfo info(String name) throws SafetensorsException {
        return fileOf(name).info(name);
    }

    public DType dtypeOf(String name) throws SafetensorsException {
        return info(name).dtype();
    }

    public float[] readFloats(String name) throws SafetensorsException {
        return fileOf(name).readFloats(name);
    }

    public long[] readLongs(String name) throws SafetensorsException {
        return fileOf(name).readLongs(name);
    }

    public ByteBuffer map(String name) throws SafetensorsException {
        return fileOf(name).map(name);
    }

    @Override
    public void close() throws SafetensorsException {
        SafetensorsException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (SafetensorsException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code tensors} into {@code dir} (created if needed) the way Hugging Face does: a
     * single {@code model.safetensors} when the data fits in {@code maxShardBytes}, otherwise
     * {@code model-0000i-of-0000N.safetensors} shards plus {@code model.safetensors.index.json}
     * with {@code metadata.total_size}. Tensors are packed into shards greedily in list order; a
     * tensor larger than the limit gets a shard of its own. Every shard carries {@code metadata}.
     * Each file is written atomically; the index is written last. Weight files left over from a
     * previous save in the other layout (a stale index, {@code model.safetensors}, or
     * {@code model-*-of-*.safetensors} shards not part of this save) are deleted afterwards so the
     * folder cannot be misread.
     *
     * @return the files written, index last
     */
    public static List<Path> writeSharded(Path dir, List<TensorData> tensors, Map<String, String> metadata,
                                          long maxShardBytes) throws SafetensorsException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(tensors, "tensors");
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        Set<String> seen = new HashSet<>();
        long total = 0;
        for (TensorData t : tensors) {
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' appears twice");
            }
            total = Math.addExact(total, t.byteLength());
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot create the folder: " + e, e);
        }

        List<List<TensorData>> groups = new ArrayList<>();
        List<TensorData> cur = new ArrayList<>();
        long curBytes = 0;
        for (TensorData t : tensors) {
            if (!cur.isEmpty() && curBytes + t.byteLength() > maxShardBytes) {
                groups.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(t);
            curBytes += t.byteLength();
        }
        if (!cur.isEmpty() || groups.isEmpty()) {
            groups.add(cur);
        }

        List<Path> written = new ArrayList<>();
        if (groups.size() == 1) {
            Path single = dir.resolve(SINGLE_FILE);
            new SafetensorsWriter().metadata(meta).addAll(groups.get(0)).write(single);
            written.add(single);
            removeStale(dir, Set.of(SINGLE_FILE));
            return written;
        }
        int n = groups.size();
        if (n > 99_999) {
            throw new IllegalArgumentException("maxShardBytes " + maxShardBytes + " would make " + n
                    + " shards; Hugging Face naming allows at most 99999");
        }
        Map<String, String> weightMap = new TreeMap<>();
        Set<String> keep = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            Path p = dir.resolve(shardName);
            new SafetensorsWriter().metadata(meta).addAll(groups.get(i)).write(p);
            written.add(p);
            keep.add(shardName);
            for (TensorData t : groups.get(i)) {
                weightMap.put(t.name(), shardName);
            }
        }
        byte[] indexJson = indexJson(total, weightMap);
        Path idx = dir.resolve(INDEX_FILE);
        AtomicWrite.write(idx, ch -> {
            ByteBuffer b = ByteBuffer.wrap(indexJson);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
        written.add(idx);
        keep.add(INDEX_FILE);
        removeStale(dir, keep);
        return written;
    }

    private static byte[] indexJson(long total, Map<String, String> weightMap) throws SafetensorsException {
        try {
            StringBuilder b = new StringBuilder();
            b.append("{\n  \"metadata\": {\n    \"total_size\": ").append(total).append("\n  },\n");
            b.append("  \"weight_map\": {");
            String sep = "\n";
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                b.append(sep).append("    ").append(JSON.writeValueAsString(e.getKey()))
                        .append(": ").append(JSON.writeValueAsString(e.getValue()));
                sep = ",\n";
            }
            b.append(weightMap.isEmpty() ? "}\n}\n" : "\n  }\n}\n");
            return b.toString().getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(INDEX_FILE + ": cannot encode the index: " + e, e);
        }
    }

    private static void removeStale(Path dir, Set<String> keep) throws SafetensorsException {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (keep.contains(n)) {
                    continue;
                }
                if (n.equals(INDEX_FILE) || n.equals(SINGLE_FILE) || SHARD_NAME.matcher(n).matches()) {
                    stale.add(p);
                }
            }
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list the folder to remove stale weight files: " + e, e);
        }
        // the index first, so a crash in between never leaves an index pointing at deleted shards
        stale.sort((a, b) -> Boolean.compare(!a.getFileName().toString().equals(INDEX_FILE),
                !b.getFileName().toString().equals(INDEX_FILE)));
        for (Path p : stale) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new SafetensorsException(p + ": cannot delete this stale weight file from an earlier"
                        + " save: " + e + "; delete it by hand, or the folder may be misread", e);
            }
        }
    }

    @Override
    public String toString() {
        return "SafetensorsCheckpoint[" + dir + ", " + files.size() + " file(s), " + names.size() + " tensors]";
    }
}
