package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.data.RawExample.Message;
import dev.retain.data.RawExample.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlReaderTest {
  @TempDir Path dir;

  private Path write(String name, String content) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void threeShapesBlankLinesCrlfAndBom() throws IOException {
    Path f = write("ok.jsonl", "\uFEFF{\"text\": \"hi\"}\r\n\r\n   \n"
        + "{\"prompt\": \"p\", \"completion\": \"c\", \"id\": 7}\n"
        + "{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}");
    JsonlReader.Result r = JsonlReader.read(f, false);
    assertEquals(List.of(
        new RawExample.Text("hi"),
        new RawExample.PromptCompletion("p", "c"),
        new RawExample.Chat(List.of(new Message(Role.USER, "u"), new Message(Role.ASSISTANT, "a")))), r.records());
    assertEquals(3, r.nonBlankLines());
    assertEquals(0, r.skipped());
  }

  private DataException fails(String content) throws IOException {
    Path f = write("bad.jsonl", content);
    DataException e = assertThrows(DataException.class, () -> JsonlReader.read(f, false));
    return e;
  }

  private void assertAt(DataException e, int line, String fragment) {
    String m = e.getMessage();
    assertTrue(m.startsWith(dir.resolve("bad.jsonl") + ":" + line + ": "), m);
    assertTrue(m.contains(fragment), m);
    assertTrue(m.contains("; "), "message says how to fix: " + m);
  }

  @Test
  void invalidJsonNamesFileAndLine() throws IOException {
    assertAt(fails("{\"text\": \"a\"}\n\n{\"text\": \"b\"\n"), 3, "invalid JSON");
  }

  @Test
  void trailingGarbage() throws IOException {
    assertAt(fails("{\"text\": \"a\"} x\n"), 1, "invalid JSON");
  }

  @Test
  void notAnObject() throws IOException {
    assertAt(fails("[1, 2]\n"), 1, "expected a JSON object, found a list");
  }

  @Test
  void missingField() throws IOException {
    assertAt(fails("{\"text\": \"a\"}\n{\"prompt\": \"p\"}\n"), 2, "missing field \"completion\"");
  }

  @Test
  void noKnownField() throws IOException {
    assertAt(fails("{\"body\": \"a\"}\n"), 1, "no \"text\"");
  }

  @Test
  void wrongType() throws IOException {
    assertAt(fails("{\"text\": 5}\n"), 1, "\"text\" must be a string, found a number");
  }

  @Test
  void emptyText() throws IOException {
    assertAt(fails("{\"text\": \"\"}\n"), 1, "\"text\" is empty");
  }

  @Test
  void mixedShapesInOneLine() throws IOException {
    assertAt(fails("{\"text\": \"a\", \"prompt\": \"p\", \"completion\": \"c\"}\n"), 1, "several shapes");
  }

  @Test
  void unknownRole() throws IOException {
    assertAt(fails("{\"messages\": [{\"role\": \"bot\", \"content\": \"a\"}]}\n"), 1, "messages[0].role is \"bot\"");
  }

  @Test
  void noAssistantTurn() throws IOException {
    assertAt(fails("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n"), 1, "no assistant message");
  }

  @Test
  void messagesNotAList() throws IOException {
    assertAt(fails("{\"messages\": \"hi\"}\n"), 1, "\"messages\" must be a list");
  }

  @Test
  void invalidUtf8() throws IOException {
    Path f = dir.resolve("bad.jsonl");
    Files.write(f, new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, '"', '}', '\n'});
    DataException e = assertThrows(DataException.class, () -> JsonlReader.read(f, false));
    assertAt(e, 1, "UTF-8");
  }

  @Test
  void skipModeCountsBadLines() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 30; i++) {
      sb.append(i % 2 == 0 ? "{\"text\": \"ok\"}" : "not json").append('\n');
    }
    Path f = write("mixed.jsonl", sb.toString());
    JsonlReader.Result r = JsonlReader.read(f, true);
    assertEquals(15, r.records().size());
    assertEquals(15, r.skipped());
    assertEquals(List.of(1, 3, 5, 7, 9, 11, 13, 15, 17, 19), r.skippedLines());
    assertTrue(r.problems().get(0).startsWith(f + ":1: invalid JSON"), r.problems().get(0));
    assertEquals(30, r.nonBlankLines());
  }

  @Test
  void emptyFile() throws IOException {
    Path f = write("empty.jsonl", "");
    DataException e = assertThrows(DataException.class, () -> JsonlReader.read(f, false));
    assertTrue(e.getMessage().startsWith(f + ": no records"), e.getMessage());
    Path blank = write("blank.jsonl", "\n  \n\r\n");
    e = assertThrows(DataException.class, () -> JsonlReader.read(blank, true));
    assertTrue(e.getMessage().startsWith(blank + ": no records"), e.getMessage());
  }

  @Test
  void allLinesBadInSkipMode() throws IOException {
    Path f = write("allbad.jsonl", "x\ny\n");
    DataException e = assertThrows(DataException.class, () -> JsonlReader.read(f, true));
    assertTrue(e.getMessage().startsWith(f + ": no usable records"), e.getMessage());
  }

  @Test
  void missingFile() {
    Path f = dir.resolve("nope.jsonl");
    DataException e = assertThrows(DataException.class, () -> JsonlReader.read(f, false));
    assertTrue(e.getMessage().startsWith(f + ": not found"), e.getMessage());
    assertInstanceOf(IOException.class, e);
  }
}
