package dev.retain.data;

import dev.retain.data.TokenizedFile.CacheStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and tokenises JSONL files once: the result is cached on disk in a folder given by the caller,
 * keyed by the SHA-256 of the file's bytes, the tokenizer's fingerprint, bos, eos, the length cap
 * (seqLen + 1), the chat template version, the cache format and the skipBadLines switch. Editing the
 * file or changing any of these gives a new key; an unreadable cache file is ignored and rewritten.
 * Cache files are named {@code <file name>-<24 hex digits of the key hash>.tokens}; old ones are
 * never deleted automatically (delete the folder to reclaim space).
 */
public final class ExampleLoader {
  private static final Logger LOG = LoggerFactory.getLogger(ExampleLoader.class);

  private final Encoder encoder;
  private final Path cacheDir;
  private final boolean skipBadLines;

  /**
   * @param cacheDir folder for token caches, or null for no cache
   * @param skipBadLines skip (and count) malformed lines instead of failing on the first one
   */
  public ExampleLoader(Encoder encoder, Path cacheDir, boolean skipBadLines) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.cacheDir = cacheDir;
    this.skipBadLines = skipBadLines;
  }

  public Encoder encoder() {
    return encoder;
  }

  /** Tokenises {@code file} (or reads it from the cache). */
  public TokenizedFile load(Path file) throws DataException {
    byte[] bytes = JsonlReader.readBytes(file);
    if (cacheDir == null) {
      return tokenise(file, bytes, CacheStatus.DISABLED);
    }
    String key = "retain-token-cache format=" + TokenCache.FORMAT + "\nsha256=" + sha256(bytes) + "\n" + encoder.cacheKey()
        + "\nskipBadLines=" + skipBadLines;
    Path cacheFile = cacheDir.resolve(safeName(file) + "-" + sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 24) + ".tokens");
    CacheStatus status = CacheStatus.MISS;
    if (Files.exists(cacheFile)) {
      try {
        TokenizedFile hit = TokenCache.read(cacheFile, key, file);
        LOG.debug("{}: tokens from cache {}", file, cacheFile);
        return hit;
      } catch (TokenCache.Corrupt e) {
        LOG.warn("{}: token cache {} is unreadable ({}); tokenising again", file, cacheFile, e.getMessage());
        status = CacheStatus.REBUILT;
      }
    }
    TokenizedFile built = tokenise(file, bytes, status);
    try {
      TokenCache.write(cacheFile, key, built);
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: cannot write the token cache {} ({}); continuing without it", file, cacheFile, e.toString());
    }
    return built;
  }

  private TokenizedFile tokenise(Path file, byte[] bytes, CacheStatus status) throws DataException {
    JsonlReader.Result read = JsonlReader.parse(file, bytes, skipBadLines);
    if (read.skipped() > 0) {
      LOG.warn("{}: skipped {} malformed line(s), first at lines {}; first problem: {}", file, read.skipped(),
          read.skippedLines(), read.problems().get(0));
    }
    int max = encoder.maxTokens();
    List<Example> examples = new ArrayList<>(read.records().size());
    int truncated = 0;
    int dropped = 0;
    for (RawExample r : read.records()) {
      Example e = encoder.encode(r);
      if (e.length() > max) {
        truncated++;
        e = e.truncate(max);
        if (e.targetCount() == 0) {
          dropped++;
          continue;
        }
      }
      examples.add(e);
    }
    if (examples.isEmpty()) {
      throw new DataException(file + ": all " + read.records().size() + " examples lost every trained token when cut to seqLen + 1 = "
          + max + " tokens (their prompts are longer than that); raise seqLen or shorten the prompts");
    }
    return new TokenizedFile(file, examples, read.records().size(), read.skipped(), read.skippedLines(), read.problems(),
        truncated, dropped, status);
  }

  private static String safeName(Path file) {
    Path name = file.getFileName();
    String s = name == null ? "data" : name.toString();
    s = s.replaceAll("[^A-Za-z0-9._-]", "_");
    return s.length() > 64 ? s.substring(0, 64) : s;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
