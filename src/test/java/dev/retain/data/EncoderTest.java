package dev.retain.data;

import static dev.retain.data.TestTokenizer.BOS;
import static dev.retain.data.TestTokenizer.EOS;
import static dev.retain.data.TestTokenizer.cat;
import static dev.retain.data.TestTokenizer.catMask;
import static dev.retain.data.TestTokenizer.ids;
import static dev.retain.data.TestTokenizer.mask;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.data.RawExample.Message;
import dev.retain.data.RawExample.Role;
import dev.retain.model.ByteLevelBpe;
import dev.retain.model.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncoderTest {
  @TempDir static Path dir;
  static Tokenizer tok;

  @BeforeAll
  static void load() throws IOException {
    tok = TestTokenizer.load(dir);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  @Test
  void byteIdsAreThreePlusTheByte() {
    // independent of the encoder: the vocabulary itself
    char h = ByteLevelBpe.byteToUnicode()['h'];
    assertEquals(3 + 'h', dev.retain.util.Json.MAPPER.valueToTree(
        ByteLevelBpe.tokenizerJson(List.of("<unk>", "<s>", "</s>"), List.of())).path("model").path("vocab").path(String.valueOf(h)).asInt());
    assertArrayEquals(new int[] {107, 108}, tok.encode("hi"));
    assertArrayEquals(new int[] {107, 108, 35, 100}, tok.encode("hi a")); // space 32 -> 35, a 97 -> 100
  }

  @Test
  void text() {
    Encoder enc = new Encoder(tok, BOS, EOS, 64);
    Example e = enc.encode(new RawExample.Text("hi"));
    assertArrayEquals(new int[] {1, 107, 108, 2}, e.ids());
    assertArrayEquals(new boolean[] {false, true, true, true}, e.targets());
    assertEquals(3, e.targetCount());
  }

  @Test
  void textWithoutBos() {
    Encoder enc = new Encoder(tok, -1, EOS, 64);
    Example e = enc.encode(new RawExample.Text("hi"));
    assertArrayEquals(new int[] {107, 108, 2}, e.ids());
    // the first token has nothing before it, so it cannot be a target
    assertArrayEquals(new boolean[] {false, true, true}, e.targets());
  }

  @Test
  void promptCompletion() {
    Encoder enc = new Encoder(tok, BOS, EOS, 64);
    Example e = enc.encode(new RawExample.PromptCompletion("hi", "yo"));
    // 'y' = 121 -> 124, 'o' = 111 -> 114
    assertArrayEquals(new int[] {1, 107, 108, 124, 114, 2}, e.ids());
    assertArrayEquals(new boolean[] {false, false, false, true, true, true}, e.targets());
  }

  @Test
  void messages() {
    Encoder enc = new Encoder(tok, BOS, EOS, 256);
    Example e = enc.encode(new RawExample.Chat(List.of(
        new Message(Role.SYSTEM, "be"),
        new Message(Role.USER, "hi"),
        new Message(Role.ASSISTANT, "yo"),
        new Message(Role.USER, "ok"),
        new Message(Role.ASSISTANT, "k"))));
    int[] expected = cat(BOS,
        ids("system: "), ids("be"), ids("\n"),
        ids("user: "), ids("hi"), ids("\n"),
        ids("assistant: "), ids("yo"), EOS,
        ids("user: "), ids("ok"), ids("\n"),
        ids("assistant: "), ids("k"), EOS);
    boolean[] target = catMask(mask(1, false),
        mask(8 + 2 + 1, false),
        mask(6 + 2 + 1, false),
        mask(11, false), mask(2, true), mask(1, true),
        mask(6 + 2 + 1, false),
        mask(11, false), mask(1, true), mask(1, true));
    assertArrayEquals(expected, e.ids());
    assertArrayEquals(target, e.targets());
    assertEquals(5, e.targetCount());
    // hand check of a piece: "\n" is byte 10 -> id 13
    assertArrayEquals(new int[] {13}, ids("\n"));
  }

  @Test
  void chatPromptEndsWithAssistantHeader() {
    Encoder enc = new Encoder(tok, BOS, EOS, 256);
    int[] p = enc.chatPrompt(List.of(new Message(Role.USER, "hi")));
    assertArrayEquals(cat(BOS, ids("user: "), ids("hi"), ids("\n"), ids("assistant: ")), p);
    assertArrayEquals(cat(BOS, ids("hi")), enc.completionPrompt("hi"));
  }

  @Test
  void multiByteCharacters() {
    Encoder enc = new Encoder(tok, BOS, EOS, 64);
    Example e = enc.encode(new RawExample.Text("é")); // C3 A9
    assertArrayEquals(new int[] {1, 3 + 0xC3, 3 + 0xA9, 2}, e.ids());
  }

  @Test
  void truncationIsCountedAndEmptiedExamplesDropped() throws IOException {
    Path f = dir.resolve("long.jsonl");
    Files.writeString(f, String.join("\n",
        "{\"text\": \"hello\"}", // 1 + 5 + 1 = 7 tokens > 5: cut
        "{\"text\": \"hi\"}", // 4 tokens: kept whole
        "{\"prompt\": \"abcdef\", \"completion\": \"x\"}", // prompt fills the cap: no target left, dropped
        "{\"prompt\": \"ab\", \"completion\": \"xyz\"}")); // 1+2+3+1 = 7: cut, keeps targets x, y
    Encoder enc = new Encoder(tok, BOS, EOS, 4); // cap 5 tokens
    TokenizedFile t = new ExampleLoader(enc, null, false).load(f);
    assertEquals(4, t.records());
    assertEquals(3, t.truncated());
    assertEquals(1, t.droppedNoTargets());
    assertEquals(3, t.examples().size());
    assertArrayEquals(cat(BOS, ids("hell")), t.examples().get(0).ids());
    assertArrayEquals(new int[] {1, 107, 108, 2}, t.examples().get(1).ids());
    assertArrayEquals(cat(BOS, ids("abxy")), t.examples().get(2).ids());
    assertArrayEquals(new boolean[] {false, false, false, true, true}, t.examples().get(2).targets());
    assertEquals(TokenizedFile.CacheStatus.DISABLED, t.cache());
    assertTrue(t.summary().contains("3 cut"), t.summary());
  }

  @Test
  void allDroppedIsAnError() throws IOException {
    Path f = dir.resolve("prompts.jsonl");
    Files.writeString(f, "{\"prompt\": \"abcdefgh\", \"completion\": \"x\"}\n");
    Encoder enc = new Encoder(tok, BOS, EOS, 4);
    DataException e = assertThrows(DataException.class, () -> new ExampleLoader(enc, null, false).load(f));
    assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("raise seqLen"), e.getMessage());
  }

  @Test
  void eosIsRequired() {
    assertThrows(IllegalArgumentException.class, () -> new Encoder(tok, BOS, -1, 8));
  }
}
