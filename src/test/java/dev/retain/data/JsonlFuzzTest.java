package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.retain.model.Tokenizer;
import dev.retain.testutil.Tiny;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of the JSONL reader and the encoder: 10,000+ malformed inputs derived from
 * valid files (byte flips, truncation, splices, structural edits, random garbage). Anything other
 * than a {@link DataException} whose message names the file and a line fails the test.
 */
class JsonlFuzzTest {
  @TempDir Path tmp;

  private static final String VALID = String.join("\n",
      "{\"text\": \"The heart pumps blood.\"}",
      "{\"prompt\": \"Question: What is 2 plus 3?\\nAnswer:\", \"completion\": \" 5\"}",
      "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Name a valve.\"}, {\"role\": \"assistant\", \"content\": \"mitral\"}]}",
      "",
      "{\"text\": \"caf\\u00e9 \\\"quoted\\\" \\ud83d\\ude00\"}",
      "");

  @Test
  void tenThousandMutationsGiveOnlyClearErrors() throws Exception {
    long seed = Long.getLong("retain.fuzz.seed", 20261129L);
    int cases = Integer.getInteger("retain.fuzz.cases", 10_000);
    Random rng = new Random(seed);
    byte[] base = VALID.getBytes(StandardCharsets.UTF_8);
    Path file = tmp.resolve("fuzz.jsonl");
    int valid = 0;
    try (Tokenizer tok = Tokenizer.load(Tiny.tokenizer(tmp))) {
      Encoder enc = new Encoder(tok, 1, 2, 16);
      for (int c = 0; c < cases; c++) {
        byte[] input = mutate(base, rng);
        boolean skip = rng.nextBoolean();
        try {
          JsonlReader.Result r = JsonlReader.parse(file, input, skip);
          for (RawExample e : r.records()) {
            enc.encode(e);
          }
          valid++;
        } catch (DataException e) {
          String m = e.getMessage();
          if (m == null || !m.contains("fuzz.jsonl")) {
            fail("case " + c + " (seed " + seed + "): message does not name the file: " + m);
          }
        } catch (Throwable t) {
          fail("case " + c + " (seed " + seed + "): " + t + " for input:\n" + new String(input, StandardCharsets.UTF_8), t);
        }
      }
    }
    assertTrue(valid > cases / 50, "too few mutants stayed valid (" + valid + "): the fuzzer tests nothing but the first line");
  }

  static byte[] mutate(byte[] base, Random rng) {
    byte[] b = base.clone();
    int kind = rng.nextInt(7);
    switch (kind) {
      case 0 -> { // flip a few bytes
        for (int i = 0, n = 1 + rng.nextInt(4); i < n; i++) {
          b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
        }
      }
      case 1 -> b = java.util.Arrays.copyOf(b, rng.nextInt(b.length + 1)); // truncate
      case 2 -> { // splice: repeat a random slice somewhere
        int from = rng.nextInt(b.length);
        int len = rng.nextInt(Math.min(40, b.length - from) + 1);
        int at = rng.nextInt(b.length);
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, from, out, at, len);
        System.arraycopy(b, at, out, at + len, b.length - at);
        b = out;
      }
      case 3 -> { // structural edits on the text
        String s = new String(b, StandardCharsets.UTF_8);
        String[] swaps = {"\"text\"", "\"txt\"", "\"prompt\"", "\"completion\"", "[", "{", "]", "}", ":", ",", "\"role\"", "null",
            "\"assistant\"", "\"robot\"", "\"content\"", "1e999", "true", "\\u", "\\ud800", "\n"};
        for (int i = 0, n = 1 + rng.nextInt(3); i < n; i++) {
          String from = swaps[rng.nextInt(swaps.length)];
          String to = swaps[rng.nextInt(swaps.length)];
          s = s.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to));
        }
        b = s.getBytes(StandardCharsets.UTF_8);
      }
      case 4 -> { // random garbage
        b = new byte[rng.nextInt(200)];
        rng.nextBytes(b);
      }
      case 5 -> { // deep nesting or huge values
        String s = rng.nextBoolean() ? "{\"text\": " + "[".repeat(2000) + "\n" : "{\"text\": \"" + "x".repeat(5000) + "\"}\n";
        b = s.getBytes(StandardCharsets.UTF_8);
      }
      default -> { } // unchanged: the valid file itself
    }
    return b;
  }
}
