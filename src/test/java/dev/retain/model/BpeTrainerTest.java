package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.cli.Main;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
  /** Sennrich et al.'s example: low x5, lower x2, newest x6, widest x3, each word a text of its own. */
  private static BpeTrainer sennrich() {
    BpeTrainer t = new BpeTrainer(true);
    for (int i = 0; i < 5; i++) {
      t.add("low");
    }
    for (int i = 0; i < 2; i++) {
      t.add("lower");
    }
    for (int i = 0; i < 6; i++) {
      t.add("newest");
    }
    for (int i = 0; i < 3; i++) {
      t.add("widest");
    }
    return t;
  }

  private static List<String> joined(List<String[]> merges) {
    List<String> out = new ArrayList<>();
    for (String[] m : merges) {
      out.add(m[0] + " " + m[1]);
    }
    return out;
  }

  @Test
  void mergesAreTheOnesComputedByHand() {
    // pair counts: e s 9, s t 9 (tie: "e" < "s"), then es t 9; l o 7, o w 7 (tie: "l" < "o"), lo w 7;
    // then n e 6, e w 6, w est 6 (tie: "e" < "n" < "w"): e w, then ew est 6 and n ew 6 ("ew" < "n"), n ewest
    BpeTrainer.Result r = sennrich().train(3 + 256 + 7, BpeTrainer.DEFAULT_SPECIALS, 1);
    assertEquals(List.of("e s", "es t", "l o", "lo w", "e w", "ew est", "n ewest"), joined(r.merges()));
    assertEquals(266, r.vocabSize());
  }

  @Test
  void stopsWhenNoPairIsFrequentEnough() {
    // with minimum frequency 7 the pairs counted 6 (n e, e w, ...) are never merged
    BpeTrainer.Result r = sennrich().train(4096, BpeTrainer.DEFAULT_SPECIALS, 7);
    assertEquals(List.of("e s", "es t", "l o", "lo w"), joined(r.merges()));
    assertEquals(3 + 256 + 4, r.vocabSize());
  }

  @Test
  void trainedTokenizerLoadsRoundTripsAndUsesTheMerges(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, Json.PRETTY.writeValueAsString(
        sennrich().train(266, BpeTrainer.DEFAULT_SPECIALS, 1).tokenizerJson()));
    try (Tokenizer tok = Tokenizer.load(file)) {
      assertEquals(266, tok.vocabSize());
      // ids: specials 0-2, byte b at 3 + b, merges from 259: es, est, lo, low, ew, ewest, newest
      assertArrayEquals(new int[] {265}, tok.encode("newest"));
      assertArrayEquals(new int[] {262, 260}, tok.encode("lowest"));
      assertArrayEquals(new int[] {3 + ' ', 265}, tok.encode(" newest"), "the space before a word stays its own byte here");
      for (String s : List.of("the newest, lowest widest!", "Ünïcödé  and\ttabs\n\nnew lines", "it's 12.5% of 1,024")) {
        assertEquals(s, tok.decode(tok.encode(s)));
      }
    }
  }

  /**
   * The pre-tokenisation must cut text exactly where the tokenizers library's ByteLevel pre-tokenizer
   * cuts it. Trained with a frequency of 1 and room to spare, every distinct piece becomes one token;
   * so the library's tokens of the text must be exactly our pieces.
   */
  @Test
  void preTokenisationMatchesTheTokenizersLibrary(@TempDir Path dir) throws Exception {
    String text = "Hello world! It's 2024; they'll say \"we've\" won't... x  y   z\n\n\tTabs\u00a0and café,"
        + " naïve Ωmega 3.14 1,000,000 a-b_c (paren) [br] e.g. I'M Don't  \n end  "
        + "abc123def \r\n\u2003em\u3000ideo \ud83d\udc4d\ud83c\udffd 心脏 e\u0301 ½ ²  \u00a0 ";
    List<String> pieces = BpeTrainer.preTokenize(text);
    assertEquals(text, String.join("", pieces));
    BpeTrainer t = new BpeTrainer(false);
    t.add(text);
    BpeTrainer.Result r = t.train(5000, BpeTrainer.DEFAULT_SPECIALS, 1);
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, Json.PRETTY.writeValueAsString(r.tokenizerJson()));
    try (Tokenizer tok = Tokenizer.load(file)) {
      List<String> tokens = new ArrayList<>();
      for (int id : tok.encode(text)) {
        tokens.add(tok.decode(new int[] {id}));
      }
      assertEquals(pieces, tokens);
    }
  }

  @Test
  void splitDigitsKeepsEveryDigitAToken(@TempDir Path dir) throws Exception {
    BpeTrainer t = new BpeTrainer(true);
    for (int i = 0; i < 20; i++) {
      t.add("2024 plus 2024 is 4048, abc abc");
    }
    BpeTrainer.Result r = t.train(400, BpeTrainer.DEFAULT_SPECIALS, 2);
    for (String[] m : r.merges()) {
      assertTrue(!(m[0] + m[1]).matches(".*[0-9].*"), "merge with a digit: " + m[0] + " " + m[1]);
    }
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, Json.PRETTY.writeValueAsString(r.tokenizerJson()));
    try (Tokenizer tok = Tokenizer.load(file)) {
      assertEquals(4, tok.encode("2024").length);
      assertEquals(1, tok.encode("abc").length);
    }
  }

  @Test
  void trainingIsDeterministic() throws Exception {
    String a = Json.PRETTY.writeValueAsString(sennrich().train(266, BpeTrainer.DEFAULT_SPECIALS, 1).tokenizerJson());
    String b = Json.PRETTY.writeValueAsString(sennrich().train(266, BpeTrainer.DEFAULT_SPECIALS, 1).tokenizerJson());
    assertEquals(a, b);
  }

  @Test
  void refusesAVocabularyBelowTheBytes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> sennrich().train(100, BpeTrainer.DEFAULT_SPECIALS, 1));
    assertTrue(e.getMessage().contains("259"), e.getMessage());
  }

  @Test
  void commandTrainsFromJsonl(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("d.jsonl");
    Files.writeString(data, "{\"text\": \"the heart pumps blood\"}\n"
        + "{\"prompt\": \"Question: What pumps blood?\\nAnswer:\", \"completion\": \" the heart\"}\n");
    Path out = dir.resolve("out/tokenizer.json");
    assertEquals(0, Main.execute("tokenizer", "train", "--data", data.toString(), "--data", data.toString(),
        "--vocab-size", "400", "--min-frequency", "2", "--out", out.toString()));
    try (Tokenizer tok = Tokenizer.load(out)) {
      // every word occurs at least twice (the file is read twice), so every word ends up one token
      // and training stops below 400 when no pair is left
      assertTrue(tok.vocabSize() > 259 && tok.vocabSize() < 400, "vocab " + tok.vocabSize());
      assertEquals(1, tok.encode(" heart").length);
      assertEquals(4, tok.encode("the heart pumps blood").length);
      assertEquals("Question: What pumps blood?", tok.decode(tok.encode("Question: What pumps blood?")));
    }
    assertEquals(2, Main.execute("tokenizer", "train", "--data", dir.resolve("missing.jsonl").toString(),
        "--out", out.toString()));
  }
}
