package dev.retain.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.tensor.Backend;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json}, run by the real Rust tokenizers library through DJL's
 * binding (its native library ships inside the jar and loads offline). Special tokens (bos, eos) are
 * not added here: the data pipeline places them, so every caller sees the same ids.
 */
public final class Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final Path file;
  private final int vocabSize;
  private final String fingerprint;

  private Tokenizer(HuggingFaceTokenizer tokenizer, Path file, int vocabSize, String fingerprint) {
    this.tokenizer = tokenizer;
    this.file = file;
    this.vocabSize = vocabSize;
    this.fingerprint = fingerprint;
  }

  /** Loads {@code tokenizer.json} from a model folder, or the file itself. */
  public static Tokenizer load(Path dirOrFile) throws IOException {
    Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("tokenizer.json") : dirOrFile;
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": not found; a model folder needs a Hugging Face tokenizer.json (retain does not read sentencepiece .model files)");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
    int vocab = vocabularySize(bytes, file);
    Backend.configure();
    HuggingFaceTokenizer t;
    try {
      t = HuggingFaceTokenizer.builder()
          .optTokenizerPath(file)
          .optAddSpecialTokens(false)
          .optTruncation(false)
          .optPadding(false)
          .build();
    } catch (RuntimeException e) {
      throw new IOException(file + ": the tokenizers library rejected it: " + e.getMessage(), e);
    }
    return new Tokenizer(t, file, vocab, sha256(bytes));
  }

  /** One more than the largest token id in the vocabulary and the added tokens. */
  private static int vocabularySize(byte[] bytes, Path file) throws IOException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new IOException(file + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    if (root == null || !root.isObject() || !root.path("model").isObject()) {
      throw new IOException(file + ": not a Hugging Face tokenizer.json (no \"model\" object)");
    }
    long max = -1;
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        max = Math.max(max, it.next().getValue().asLong());
      }
    } else if (vocab.isArray()) {
      max = vocab.size() - 1; // Unigram: a list of [piece, score]
    }
    for (JsonNode added : root.path("added_tokens")) {
      max = Math.max(max, added.path("id").asLong());
    }
    if (max < 0) {
      throw new IOException(file + ": the vocabulary is empty");
    }
    return Math.toIntExact(max + 1);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Token ids of {@code text}, without special tokens. */
  public int[] encode(String text) {
    Encoding e = tokenizer.encode(text, false, false);
    long[] ids = e.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of {@code ids}, special tokens skipped. */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, true);
  }

  /** Number of ids the tokenizer can produce (must not exceed the model's vocab_size). */
  public int vocabSize() {
    return vocabSize;
  }

  /** SHA-256 of tokenizer.json: part of the key of tokenised-data caches. */
  public String fingerprint() {
    return fingerprint;
  }

  public Path file() {
    return file;
  }

  /** Refuses a tokenizer whose ids would index past the model's embedding table. */
  public void checkFits(ModelConfig config, Path modelDir) {
    if (vocabSize > config.vocabSize) {
      throw new ModelConfigException(file + ": the tokenizer has " + vocabSize + " tokens but " + modelDir
          + "/config.json has vocab_size " + config.vocabSize + "; the tokenizer belongs to a different model");
    }
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
