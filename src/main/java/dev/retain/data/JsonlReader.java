package dev.retain.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.retain.data.RawExample.Message;
import dev.retain.data.RawExample.Role;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a JSONL source: one JSON object per line, each in one of the shapes of {@link RawExample}
 * (shapes may differ from line to line). Blank lines are skipped; a UTF-8 byte-order mark and CRLF
 * line ends are accepted. A malformed line stops the read with a {@link DataException} whose message
 * is {@code file:line: what is wrong; how to fix}, unless {@code skipBadLines} is set, in which case
 * such lines are counted and the first few are reported in the {@link Result}. Fields other than the
 * ones of the shape (an "id", a "source") are ignored.
 */
public final class JsonlReader {
  /** How many skipped line numbers and problem messages a {@link Result} keeps. */
  public static final int KEEP_PROBLEMS = 10;

  private static final ObjectReader READER =
      Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final String SHAPES =
      "each line must be one of {\"text\": \"...\"}, {\"prompt\": \"...\", \"completion\": \"...\"}"
          + " or {\"messages\": [{\"role\": \"user\", \"content\": \"...\"}, {\"role\": \"assistant\", \"content\": \"...\"}]}";

  private JsonlReader() {}

  /**
   * What was read from one file.
   *
   * @param records the good lines, in file order
   * @param nonBlankLines lines that were not blank (good + skipped)
   * @param skipped how many malformed lines were skipped (always 0 unless skipBadLines)
   * @param skippedLines the first {@link #KEEP_PROBLEMS} skipped line numbers (1-based)
   * @param problems the messages of the first {@link #KEEP_PROBLEMS} skipped lines
   */
  public record Result(
      Path file, List<RawExample> records, int nonBlankLines, int skipped, List<Integer> skippedLines, List<String> problems) {
    public Result {
      records = List.copyOf(records);
      skippedLines = List.copyOf(skippedLines);
      problems = List.copyOf(problems);
    }
  }

  /** Reads and parses {@code file}. */
  public static Result read(Path file, boolean skipBadLines) throws DataException {
    return parse(file, readBytes(file), skipBadLines);
  }

  /** The bytes of {@code file}, with errors that name it. */
  public static byte[] readBytes(Path file) throws DataException {
    if (Files.isDirectory(file)) {
      throw new DataException(file + ": is a directory; give the path of a .jsonl file");
    }
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": not found; check the path (relative paths are resolved from "
          + Path.of("").toAbsolutePath() + ")", e);
    } catch (IOException e) {
      throw new DataException(file + ": cannot be read (" + e + "); check its permissions", e);
    }
  }

  /** Parses JSONL {@code bytes} that came from {@code file} (used in messages). */
  public static Result parse(Path file, byte[] bytes, boolean skipBadLines) throws DataException {
    List<RawExample> records = new ArrayList<>();
    List<Integer> skippedLines = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int skipped = 0;
    int nonBlank = 0;
    int start = 0;
    if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
      start = 3;
    }
    CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    int line = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      line++;
      int stop = end;
      if (stop > start && bytes[stop - 1] == '\r') {
        stop--;
      }
      int lineStart = start;
      start = end + 1;
      String text;
      try {
        text = utf8.reset().decode(ByteBuffer.wrap(bytes, lineStart, stop - lineStart)).toString();
      } catch (CharacterCodingException e) {
        text = null;
      }
      if (text != null && text.isBlank()) {
        continue;
      }
      nonBlank++;
      try {
        if (text == null) {
          throw new LineProblem("the line is not valid UTF-8", "save the file as UTF-8");
        }
        records.add(parseLine(text));
      } catch (LineProblem p) {
        String message = file + ":" + line + ": " + p.what + "; " + p.fix;
        if (!skipBadLines) {
          throw new DataException(message + " (or skip malformed lines with skipBadLines)");
        }
        skipped++;
        if (skippedLines.size() < KEEP_PROBLEMS) {
          skippedLines.add(line);
          problems.add(message);
        }
      }
    }
    if (records.isEmpty()) {
      if (nonBlank == 0) {
        throw new DataException(file + ": no records, the file is empty or has only blank lines; "
            + "add one JSON object per line, " + SHAPES);
      }
      throw new DataException(file + ": no usable records, all " + nonBlank + " non-blank lines are malformed (first: "
          + problems.get(0) + ")");
    }
    return new Result(file, records, nonBlank, skipped, skippedLines, problems);
  }

  /** One line's problem: what is wrong and how to fix it. */
  private static final class LineProblem extends Exception {
    private static final long serialVersionUID = 1L;
    final String what;
    final String fix;

    LineProblem(String what, String fix) {
      super(what, null, false, false);
      this.what = what;
      this.fix = fix;
    }
  }

  private static RawExample parseLine(String text) throws LineProblem {
    JsonNode node;
    try {
      node = READER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new LineProblem("invalid JSON (" + shorten(e.getOriginalMessage()) + ")",
          "write one complete JSON object per line; " + SHAPES);
    }
    if (node == null || !node.isObject()) {
      throw new LineProblem("expected a JSON object, found " + kind(node), SHAPES);
    }
    boolean text1 = node.has("text");
    boolean prompt = node.has("prompt") || node.has("completion");
    boolean messages = node.has("messages");
    int shapes = (text1 ? 1 : 0) + (prompt ? 1 : 0) + (messages ? 1 : 0);
    if (shapes == 0) {
      throw new LineProblem("no \"text\", \"prompt\"/\"completion\" or \"messages\" field", SHAPES);
    }
    if (shapes > 1) {
      List<String> found = new ArrayList<>();
      if (text1) {
        found.add("\"text\"");
      }
      if (prompt) {
        found.add("\"prompt\"/\"completion\"");
      }
      if (messages) {
        found.add("\"messages\"");
      }
      throw new LineProblem("the object mixes the fields of several shapes (" + String.join(", ", found) + ")",
          "keep the fields of one shape per line; " + SHAPES);
    }
    if (text1) {
      String t = string(node, "text", "\"text\"");
      if (t.isEmpty()) {
        throw new LineProblem("\"text\" is empty, nothing to train on", "remove the line or give it text");
      }
      return new RawExample.Text(t);
    }
    if (prompt) {
      String p = string(node, "prompt", "\"prompt\"");
      String c = string(node, "completion", "\"completion\"");
      if (c.isEmpty()) {
        throw new LineProblem("\"completion\" is empty, nothing to train on", "remove the line or give it a completion");
      }
      return new RawExample.PromptCompletion(p, c);
    }
    JsonNode list = node.get("messages");
    if (!list.isArray()) {
      throw new LineProblem("\"messages\" must be a list, found " + kind(list),
          "write \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, {\"role\": \"assistant\", \"content\": \"...\"}]");
    }
    if (list.isEmpty()) {
      throw new LineProblem("\"messages\" is empty", "give at least one assistant message, or remove the line");
    }
    List<Message> out = new ArrayList<>();
    boolean assistant = false;
    for (int i = 0; i < list.size(); i++) {
      JsonNode m = list.get(i);
      String where = "messages[" + i + "]";
      if (!m.isObject()) {
        throw new LineProblem(where + " must be an object, found " + kind(m),
            "write each message as {\"role\": \"user\", \"content\": \"...\"}");
      }
      String roleName = string(m, "role", where + ".role");
      Role role = Role.fromJson(roleName);
      if (role == null) {
        throw new LineProblem(where + ".role is \"" + shorten(roleName) + "\", not one of system, user, assistant",
            "use one of the roles system, user, assistant (lower case)");
      }
      String content = string(m, "content", where + ".content");
      assistant |= role == Role.ASSISTANT;
      out.add(new Message(role, content));
    }
    if (!assistant) {
      throw new LineProblem("\"messages\" has no assistant message, so nothing would be trained on",
          "add a {\"role\": \"assistant\", \"content\": \"...\"} message, or use the {\"text\": ...} shape");
    }
    return new RawExample.Chat(out);
  }

  private static String string(JsonNode obj, String field, String label) throws LineProblem {
    JsonNode v = obj.get(field);
    if (v == null) {
      throw new LineProblem("missing field " + label, "add " + label + " as a string; " + SHAPES);
    }
    if (!v.isTextual()) {
      throw new LineProblem(label + " must be a string, found " + kind(v), "quote the value: \"...\"");
    }
    return v.textValue();
  }

  private static String kind(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return "nothing";
    }
    switch (n.getNodeType()) {
      case ARRAY:
        return "a list";
      case OBJECT:
        return "an object";
      case STRING:
        return "a string";
      case NUMBER:
        return "a number";
      case BOOLEAN:
        return "a boolean";
      case NULL:
        return "null";
      default:
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private static String shorten(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    if (nl >= 0) {
      s = s.substring(0, nl);
    }
    return s.length() > 160 ? s.substring(0, 157) + "..." : s;
  }
}
