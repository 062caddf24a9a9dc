package dev.retain.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Probe suites: small held-out test sets that say what a model knows. A suite is a JSONL file of one
 * kind: {@code exact} ({"prompt", "answer"}: greedy answer compared after normalisation),
 * {@code choice} ({"prompt", "choices": [4], "answer": index}: the choice with the highest
 * log-likelihood wins) or {@code text} ({"text"}: cross-entropy). A folder lists its suites in
 * {@code suites.json}: [{"name", "kind", "file", "role": "general"|"domain", "description"}].
 * See docs/probes.md.
 */
public final class Probes {
  private Probes() {}

  public enum Kind { EXACT, CHOICE, TEXT }

  /** One item; fields unused by a kind are null. */
  public record Item(String prompt, String answer, List<String> choices, int correctChoice, String text) {}

  public record Suite(String name, Kind kind, String role, String description, List<Item> items) {
    public boolean general() {
      return "general".equals(role);
    }
  }

  /** Loads a folder with suites.json, or one JSONL file (its kind read from the first item). */
  public static List<Suite> load(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      Path index = path.resolve("suites.json");
      if (!Files.isRegularFile(index)) {
        throw new IOException(path + ": no suites.json; a probe folder lists its suites there (see docs/probes.md)");
      }
      JsonNode root;
      try {
        root = Json.MAPPER.readTree(index.toFile());
      } catch (IOException e) {
        throw new IOException(index + ": not valid JSON (" + e.getMessage() + ")", e);
      }
      JsonNode list = root.isArray() ? root : root.path("suites");
      if (!list.isArray() || list.isEmpty()) {
        throw new IOException(index + ": expected a list of suites [{\"name\", \"kind\", \"file\", \"role\"}]");
      }
      List<Suite> out = new ArrayList<>();
      for (JsonNode s : list) {
        String name = s.path("name").asText(null);
        String file = s.path("file").asText(null);
        if (name == null || file == null) {
          throw new IOException(index + ": every suite needs \"name\" and \"file\", got " + s);
        }
        Kind kind = kind(s.path("kind").asText(""), index + " suite '" + name + "'");
        String role = s.path("role").asText("general");
        out.add(new Suite(name, kind, role, s.path("description").asText(""), items(path.resolve(file), kind)));
      }
      return out;
    }
    List<Item> items = items(path, null);
    Kind kind = items.get(0).text() != null ? Kind.TEXT : items.get(0).choices() != null ? Kind.CHOICE : Kind.EXACT;
    String name = path.getFileName().toString().replaceFirst("\\.jsonl$", "");
    return List.of(new Suite(name, kind, "general", "", items));
  }

  static Kind kind(String s, String where) throws IOException {
    try {
      return Kind.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": kind must be exact, choice or text, got '" + s + "'");
    }
  }

  /** Reads the items of a JSONL suite file, checking each line against the kind. */
  static List<Item> items(Path file, Kind kind) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": probe file not found");
    }
    List<Item> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String where = file + ":" + lineNo;
      JsonNode n;
      try {
        n = Json.MAPPER.readTree(line);
      } catch (IOException e) {
        throw new IOException(where + ": not valid JSON (" + e.getMessage() + ")", e);
      }
      Kind k = kind != null ? kind : n.has("text") ? Kind.TEXT : n.has("choices") ? Kind.CHOICE : Kind.EXACT;
      switch (k) {
        case TEXT -> out.add(new Item(null, null, null, -1, string(n, "text", where)));
        case EXACT -> out.add(new Item(string(n, "prompt", where), string(n, "answer", where), null, -1, null));
        case CHOICE -> {
          JsonNode cs = n.path("choices");
          if (!cs.isArray() || cs.size() < 2) {
            throw new IOException(where + ": \"choices\" must be a list of at least two strings");
          }
          List<String> choices = new ArrayList<>();
          cs.forEach(c -> choices.add(c.asText()));
          JsonNode a = n.path("answer");
          if (!a.isInt() || a.asInt() < 0 || a.asInt() >= choices.size()) {
            throw new IOException(where + ": \"answer\" must be the index of the right choice (0.." + (choices.size() - 1) + ")");
          }
          out.add(new Item(string(n, "prompt", where), null, List.copyOf(choices), a.asInt(), null));
        }
        default -> throw new IllegalStateException();
      }
    }
    if (out.isEmpty()) {
      throw new IOException(file + ": the probe file has no items");
    }
    return out;
  }

  private static String string(JsonNode n, String field, String where) throws IOException {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IOException(where + ": missing string field \"" + field + "\"");
    }
    return v.asText();
  }

  /**
   * Normalisation of exact-match answers: the first line only, lower case, whitespace collapsed,
   * surrounding quotes and a final period removed. "  Paris.\nQuestion: ..." equals "paris".
   */
  public static String normalise(String s) {
    String t = s;
    int nl = t.indexOf('\n');
    if (nl >= 0) {
      t = t.substring(0, nl);
    }
    t = t.toLowerCase(Locale.ROOT).trim().replaceAll("\\s+", " ");
    t = t.replaceAll("^[\"'`]+|[\"'`]+$", "");
    while (t.endsWith(".")) {
      t = t.substring(0, t.length() - 1).trim();
    }
    return t;
  }
}
