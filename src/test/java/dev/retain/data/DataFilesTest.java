package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.data.RawExample.PromptCompletion;
import dev.retain.data.RawExample.Text;
import dev.retain.model.Tokenizer;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed data/ (built by tools/data/build.sh, described in DATA.md and docs/probes.md) is
 * well-formed for retain's readers and keeps its promises: held-out questions never appear in
 * training, every domain test question asks about a fact that training teaches, the tokenizer loads.
 */
class DataFilesTest {
  private static final Path DATA = Path.of("data");
  private static final String QUESTION = "Question: ";
  private static final String ANSWER = "\nAnswer:";

  private static final List<String> TRAINING = List.of(
      "general/prose/train.jsonl", "general/facts/train.jsonl", "general/math/train.jsonl",
      "cardio/prose/train.jsonl", "cardio/qa/train.jsonl", "cardio/train.jsonl", "pretrain/train.jsonl");
  private static final List<String> VALIDATION = List.of(
      "general/prose/validation.jsonl", "general/facts/validation.jsonl", "general/math/validation.jsonl",
      "cardio/prose/validation.jsonl", "cardio/qa/validation.jsonl", "cardio/validation.jsonl",
      "pretrain/validation.jsonl");

  private static List<RawExample> read(String rel) throws IOException {
    return JsonlReader.read(DATA.resolve(rel), false).records();
  }

  private static List<JsonNode> probes(String name) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(DATA.resolve("probes").resolve(name), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(Json.MAPPER.readTree(line));
      }
    }
    return out;
  }

  private static Set<String> trainingPrompts() throws IOException {
    Set<String> prompts = new HashSet<>();
    for (String f : TRAINING) {
      for (RawExample r : read(f)) {
        if (r instanceof PromptCompletion pc) {
          prompts.add(pc.prompt());
        }
      }
    }
    return prompts;
  }

  @Test
  void everyTrainingAndValidationFileReadsAndUsesTheOnePromptFormat() throws IOException {
    for (String f : concat(TRAINING, VALIDATION)) {
      JsonlReader.Result r = JsonlReader.read(DATA.resolve(f), false);
      assertTrue(r.records().size() > 0, f);
      assertEquals(0, r.skipped(), f);
      for (RawExample e : r.records()) {
        if (e instanceof PromptCompletion pc) {
          assertTrue(pc.prompt().startsWith(QUESTION) && pc.prompt().endsWith(ANSWER), f + ": prompt " + pc.prompt());
          assertTrue(pc.completion().startsWith(" ") && !pc.completion().isBlank()
              && pc.completion().equals(" " + pc.completion().strip()), f + ": completion '" + pc.completion() + "'");
        } else {
          assertTrue(e instanceof Text t && !t.text().isBlank(), f + ": unexpected record " + e);
        }
      }
    }
  }

  @Test
  void suitesListTheProbeFilesAndEachLineHasItsShape() throws IOException {
    JsonNode suites = Json.MAPPER.readTree(DATA.resolve("probes/suites.json").toFile());
    assertEquals("Question: {question}\nAnswer:{completion}", suites.path("prompt_format").asText());
    Set<String> names = new HashSet<>();
    for (JsonNode s : suites.path("suites")) {
      String name = s.path("name").asText();
      names.add(name);
      String kind = s.path("kind").asText();
      assertTrue(Set.of("general", "domain").contains(s.path("role").asText()), name);
      String file = s.path("file").asText();
      List<JsonNode> items = probes(file);
      assertEquals(s.path("items").asInt(), items.size(), name);
      switch (kind) {
        case "exact" -> {
          assertTrue(items.size() >= 200, name + " is too small for useful intervals");
          for (JsonNode it : items) {
            String p = it.path("prompt").asText();
            String a = it.path("answer").asText();
            assertTrue(p.startsWith(QUESTION) && p.endsWith(ANSWER), name + ": " + p);
            assertTrue(!a.isEmpty() && a.equals(a.strip()) && a.split(" ").length <= 4, name + ": answer '" + a + "'");
          }
        }
        case "choice" -> {
          assertTrue(items.size() >= 200, name);
          for (JsonNode it : items) {
            assertTrue(it.path("prompt").asText().endsWith(ANSWER), name);
            JsonNode choices = it.path("choices");
            assertEquals(4, choices.size(), name);
            Set<String> distinct = new HashSet<>();
            choices.forEach(c -> distinct.add(c.asText().toLowerCase(Locale.ROOT)));
            assertEquals(4, distinct.size(), name + ": repeated choice in " + it);
            int answer = it.path("answer").asInt(-1);
            assertTrue(answer >= 0 && answer < 4 && it.path("answer").isInt(), name);
          }
        }
        case "text" -> {
          List<RawExample> texts = JsonlReader.read(DATA.resolve("probes").resolve(file), false).records();
          assertEquals(items.size(), texts.size());
          texts.forEach(t -> assertTrue(t instanceof Text, name));
        }
        default -> fail("unknown probe kind " + kind + " in " + name);
      }
    }
    assertEquals(Set.of("general-math", "general-facts", "general-text", "cardio-qa", "cardio-mc"), names);
  }

  @Test
  void heldOutQuestionsNeverAppearInTraining() throws IOException {
    Set<String> prompts = trainingPrompts();
    for (String suite : List.of("general-math.jsonl", "general-facts.jsonl", "cardio-qa.jsonl", "cardio-mc.jsonl")) {
      for (JsonNode it : probes(suite)) {
        assertFalse(prompts.contains(it.path("prompt").asText()), suite + ": in training: " + it);
      }
    }
    Set<String> validation = new HashSet<>();
    for (String f : VALIDATION) {
      for (RawExample r : read(f)) {
        if (r instanceof PromptCompletion pc) {
          assertFalse(prompts.contains(pc.prompt()), f + ": validation question in training: " + pc.prompt());
          validation.add(pc.prompt());
        }
      }
    }
    for (String suite : List.of("general-math.jsonl", "general-facts.jsonl", "cardio-qa.jsonl")) {
      for (JsonNode it : probes(suite)) {
        assertFalse(validation.contains(it.path("prompt").asText()), suite + ": test question in validation: " + it);
      }
    }
    Set<String> prose = new HashSet<>();
    for (String f : TRAINING) {
      for (RawExample r : read(f)) {
        if (r instanceof Text t) {
          prose.add(t.text());
        }
      }
    }
    for (JsonNode it : probes("general-text.jsonl")) {
      assertFalse(prose.contains(it.path("text").asText()), "general-text passage in training");
    }
  }

  private static final Pattern NUMBER = Pattern.compile("\\d+");

  private static List<Integer> numbers(String s) {
    List<Integer> out = new ArrayList<>();
    Matcher m = NUMBER.matcher(s);
    while (m.find()) {
      out.add(Integer.parseInt(m.group()));
    }
    return out;
  }

  @Test
  void mathTestProblemsAreNewAndTheirAnswersRight() throws IOException {
    Set<List<Integer>> trained = new HashSet<>();
    for (String f : List.of("general/math/train.jsonl", "pretrain/train.jsonl")) {
      for (RawExample r : read(f)) {
        if (r instanceof PromptCompletion pc) {
          trained.add(numbers(pc.prompt()));
        }
      }
    }
    List<JsonNode> items = probes("general-math.jsonl");
    for (JsonNode it : items) {
      String p = it.path("prompt").asText();
      List<Integer> n = numbers(p);
      assertFalse(trained.contains(n), "the numbers " + n + " of a test problem occur in a training problem: " + p);
      int want = switch (it.path("tag").asText()) {
        case "add" -> n.get(0) + n.get(1);
        case "sub" -> p.contains("Subtract") ? n.get(1) - n.get(0) : n.get(0) - n.get(1);
        case "mul" -> n.get(0) * n.get(1);
        case "word_add_sub" -> n.get(0) + n.get(1) - n.get(2);
        case "word_sub_add" -> n.get(0) - n.get(1) + n.get(2);
        case "word_mul_add" -> n.get(0) * n.get(1) + n.get(2);
        case "word_mul_sub" -> n.get(0) * n.get(1) - n.get(2);
        default -> throw new AssertionError("unknown tag in " + it);
      };
      assertEquals(Integer.toString(want), it.path("answer").asText(), p);
    }
  }

  /** Every held-out question asks about something that training teaches under another phrasing. */
  @Test
  void heldOutFactsAreTaughtInTraining() throws IOException {
    checkTaught("general-facts.jsonl", List.of("general/facts/train.jsonl"));
    checkTaught("cardio-qa.jsonl", List.of("cardio/qa/train.jsonl"));
    // and the cardiovascular answer is stated in a training document
    StringBuilder docs = new StringBuilder();
    for (RawExample r : read("cardio/prose/train.jsonl")) {
      docs.append(((Text) r).text().toLowerCase(Locale.ROOT)).append('\n');
    }
    for (JsonNode it : probes("cardio-qa.jsonl")) {
      assertTrue(docs.indexOf(it.path("answer").asText().toLowerCase(Locale.ROOT)) >= 0, "not in the documents: " + it);
    }
    List<JsonNode> qa = probes("cardio-qa.jsonl");
    List<JsonNode> mc = probes("cardio-mc.jsonl");
    assertEquals(qa.size(), mc.size());
    for (int i = 0; i < qa.size(); i++) {
      assertEquals(qa.get(i).path("prompt"), mc.get(i).path("prompt"));
      assertEquals(qa.get(i).path("answer").asText(), mc.get(i).path("choices").get(mc.get(i).path("answer").asInt()).asText());
    }
  }

  private static void checkTaught(String suite, List<String> files) throws IOException {
    Map<String, Integer> completions = new HashMap<>();
    for (String f : files) {
      for (RawExample r : read(f)) {
        if (r instanceof PromptCompletion pc) {
          completions.merge(pc.completion().strip(), 1, Integer::sum);
        }
      }
    }
    for (JsonNode it : probes(suite)) {
      assertTrue(completions.containsKey(it.path("answer").asText()), suite + ": the answer is never trained: " + it);
    }
  }

  @Test
  void manifestMatchesTheFilesAndTheDataStaysSmall() throws Exception {
    JsonNode manifest = Json.MAPPER.readTree(DATA.resolve("manifest.json").toFile());
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    int n = 0;
    for (JsonNode f : manifest.path("files")) {
      byte[] bytes = Files.readAllBytes(DATA.resolve(f.path("file").asText()));
      assertEquals(f.path("sha256").asText(), HexFormat.of().formatHex(sha.digest(bytes)), f.path("file").asText());
      n++;
    }
    assertTrue(n >= 20, "manifest lists " + n + " files");
    long total;
    try (Stream<Path> s = Files.walk(DATA)) {
      total = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    assertTrue(total < 30L << 20, "data/ holds " + total + " bytes; keep it under 30 MB");
  }

  @Test
  void committedTokenizerLoadsWithAbout4096TokensAndSplitsDigits() throws IOException {
    try (Tokenizer tok = Tokenizer.load(DATA.resolve("tokenizer/tokenizer.json"))) {
      assertEquals(4096, tok.vocabSize());
      String s = "Question: What is 12 plus 7?\nAnswer: 19. The heart pumps blood through the arteries.";
      assertEquals(s, tok.decode(tok.encode(s)));
      assertEquals(3, tok.encode("127").length, "digits are single tokens");
      assertTrue(tok.encode(" heart").length == 1, "a frequent word is one token");
    }
    JsonNode json = Json.MAPPER.readTree(DATA.resolve("tokenizer/tokenizer.json").toFile());
    assertEquals("<unk>", json.path("added_tokens").get(0).path("content").asText());
    assertEquals("<s>", json.path("added_tokens").get(1).path("content").asText());
    assertEquals("</s>", json.path("added_tokens").get(2).path("content").asText());
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
