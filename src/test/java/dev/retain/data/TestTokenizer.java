package dev.retain.data;

import dev.retain.model.ByteLevelBpe;
import dev.retain.model.Tokenizer;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real byte-level BPE tokenizer with no merges: specials {@code <unk>=0, <s>=1, </s>=2}, then the
 * 256 bytes in order, so byte b has id 3 + b and every byte is one token.
 */
final class TestTokenizer {
  static final int BOS = 1;
  static final int EOS = 2;

  private TestTokenizer() {}

  static Tokenizer load(Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, Json.MAPPER.writeValueAsString(
        ByteLevelBpe.tokenizerJson(List.of("<unk>", "<s>", "</s>"), List.of())));
    return Tokenizer.load(file);
  }

  /** Expected ids of {@code s}: 3 + each UTF-8 byte. */
  static int[] ids(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int[] out = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = 3 + (b[i] & 0xFF);
    }
    return out;
  }

  /** Concatenation of int arrays and single ints (Integer or int[] arguments). */
  static int[] cat(Object... parts) {
    int n = 0;
    for (Object p : parts) {
      n += p instanceof int[] a ? a.length : 1;
    }
    int[] out = new int[n];
    int k = 0;
    for (Object p : parts) {
      if (p instanceof int[] a) {
        System.arraycopy(a, 0, out, k, a.length);
        k += a.length;
      } else {
        out[k++] = (Integer) p;
      }
    }
    return out;
  }

  /** A mask of {@code n} copies of {@code v}. */
  static boolean[] mask(int n, boolean v) {
    boolean[] m = new boolean[n];
    java.util.Arrays.fill(m, v);
    return m;
  }

  /** Concatenation of boolean arrays. */
  static boolean[] catMask(boolean[]... parts) {
    int n = 0;
    for (boolean[] p : parts) {
      n += p.length;
    }
    boolean[] out = new boolean[n];
    int k = 0;
    for (boolean[] p : parts) {
      System.arraycopy(p, 0, out, k, p.length);
      k += p.length;
    }
    return out;
  }
}
