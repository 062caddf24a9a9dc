package dev.retain.model;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.util.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GPT-2 style byte-level BPE {@code tokenizer.json}: every byte is a symbol (mapped to a
 * printable character by GPT-2's byte-to-unicode table), merges build longer tokens. The file is a
 * standard one that the Hugging Face tokenizers library (Rust, Python, DJL) loads as is.
 */
public final class ByteLevelBpe {
  private ByteLevelBpe() {}

  /** GPT-2's reversible map from bytes to printable code points. */
  public static char[] byteToUnicode() {
    char[] map = new char[256];
    boolean[] printable = new boolean[256];
    for (int b = '!'; b <= '~'; b++) {
      printable[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      printable[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      printable[b] = true;
    }
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (printable[b]) {
        map[b] = (char) b;
      } else {
        map[b] = (char) (256 + n++);
      }
    }
    return map;
  }

  /**
   * Builds the tokenizer.json: special tokens get ids 0.., then the 256 byte symbols, then one token
   * per merge (each merge is a pair of existing symbols in byte-unicode form, joined in order).
   */
  public static ObjectNode tokenizerJson(List<String> specials, List<String[]> merges) {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : specials) {
      vocab.put(s, vocab.size());
    }
    for (char c : byteToUnicode()) {
      vocab.putIfAbsent(String.valueOf(c), vocab.size());
    }
    List<String> mergeStrings = new ArrayList<>();
    for (String[] m : merges) {
      if (!vocab.containsKey(m[0]) || !vocab.containsKey(m[1])) {
        throw new IllegalArgumentException("merge " + m[0] + " + " + m[1] + " uses a symbol not yet in the vocabulary");
      }
      vocab.putIfAbsent(m[0] + m[1], vocab.size());
      mergeStrings.add(m[0] + " " + m[1]);
    }
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (String s : specials) {
      ObjectNode t = added.addObject();
      t.put("id", vocab.get(s));
      t.put("content", s);
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "ByteLevel");
    pre.put("add_prefix_space", false);
    pre.put("trim_offsets", true);
    pre.put("use_regex", true);
    root.putNull("post_processor");
    ObjectNode dec = root.putObject("decoder");
    dec.put("type", "ByteLevel");
    dec.put("add_prefix_space", true);
    dec.put("trim_offsets", true);
    dec.put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    ObjectNode v = model.putObject("vocab");
    vocab.forEach(v::put);
    ArrayNode ms = model.putArray("merges");
    mergeStrings.forEach(ms::add);
    return root;
  }
}
