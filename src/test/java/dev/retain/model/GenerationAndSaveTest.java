package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.testutil.Reference;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationAndSaveTest {
  @TempDir Path tmp;

  @Test
  void greedyWithCacheEqualsGreedyRecomputed() throws Exception {
    try (CausalLM model = ModelLoader.load(Reference.tiny().resolve("model"))) {
      int[] prompt = {1, 17, 42, 99, 3};
      Generator.Sampling greedy = Generator.Sampling.greedy(40, Set.of());
      int[] cached = Generator.generate(model, prompt, greedy, true);
      int[] recomputed = Generator.generate(model, prompt, greedy, false);
      assertEquals(40, cached.length);
      assertArrayEquals(recomputed, cached);
    }
  }

  @Test
  void batchedGreedyEqualsOneAtATime() throws Exception {
    // Left padding, masked pad keys and per-row positions must leave every row's continuation as it
    // is alone; rows stop at their own budget or at a stop id.
    try (CausalLM model = ModelLoader.load(Reference.tiny().resolve("model"))) {
      List<int[]> prompts = List.of(new int[] {1, 17, 42, 99, 3}, new int[] {1, 5}, new int[] {1, 8, 9, 10, 11, 12, 13, 14},
          new int[] {1});
      int[] budgets = {12, 20, 3, 16};
      int stop = Generator.generate(model, prompts.get(1), Generator.Sampling.greedy(20, Set.of()), true)[6];
      for (Set<Integer> stops : List.of(Set.<Integer>of(), Set.of(stop))) {
        List<int[]> batched = Generator.greedyBatch(model, prompts, budgets, stops);
        for (int r = 0; r < prompts.size(); r++) {
          int[] alone = Generator.generate(model, prompts.get(r), Generator.Sampling.greedy(budgets[r], stops), true);
          assertArrayEquals(alone, batched.get(r), "row " + r + " with stops " + stops);
        }
      }
      assertEquals(12, Generator.greedyBatch(model, prompts, budgets, Set.of()).get(0).length);
    }
  }

  @Test
  void samplingIsSeededAndStopsAtEos() throws Exception {
    try (CausalLM model = ModelLoader.load(Reference.tiny().resolve("model"))) {
      int[] prompt = {1, 5, 6};
      var s = new Generator.Sampling(30, 1.0, 0.9, 7, Set.of());
      assertArrayEquals(Generator.generate(model, prompt, s, true), Generator.generate(model, prompt, s, true));
      int[] greedy = Generator.generate(model, prompt, Generator.Sampling.greedy(30, Set.of()), true);
      // Stop at the 5th greedy token: generation ends right before it.
      int stop = greedy[4];
      int firstStop = 0;
      while (greedy[firstStop] != stop) {
        firstStop++;
      }
      int[] stopped = Generator.generate(model, prompt, Generator.Sampling.greedy(30, Set.of(stop)), true);
      assertEquals(firstStop, stopped.length);
    }
  }

  @Test
  void topPKeepsOnlyTheNucleus() {
    float[] logits = {0f, 10f, 9f, -5f};
    var s = new Generator.Sampling(1, 1.0, 0.5, 1, List.of());
    java.util.Random rng = new java.util.Random(3);
    for (int i = 0; i < 200; i++) {
      assertEquals(1, Generator.pick(logits, s, rng), "only the top token holds >= 50% of the mass");
    }
    var wide = new Generator.Sampling(1, 1.0, 1.0, 1, List.of());
    boolean sawSecond = false;
    for (int i = 0; i < 200; i++) {
      sawSecond |= Generator.pick(logits, wide, rng) == 2;
    }
    assertTrue(sawSecond);
  }

  @Test
  void saveAndLoadRoundTripsBitExactly() throws Exception {
    Path src = Reference.tiny().resolve("model");
    Path out = tmp.resolve("saved");
    try (CausalLM model = ModelLoader.load(src)) {
      ModelSaver.save(model, out, DType.F32, src);
    }
    try (SafetensorsFile a = SafetensorsFile.open(src.resolve("model.safetensors"));
        SafetensorsFile b = SafetensorsFile.open(out.resolve("model.safetensors"))) {
      assertEquals(a.names(), b.names());
      for (String n : a.names()) {
        assertArrayEquals(a.readFloats(n), b.readFloats(n), n);
        assertArrayEquals(a.info(n).shape(), b.info(n).shape(), n);
      }
    }
    assertEquals(Json.MAPPER.readTree(src.resolve("config.json").toFile()), Json.MAPPER.readTree(out.resolve("config.json").toFile()));
    assertTrue(Files.exists(out.resolve("generation_config.json")));
    // Saving again over an existing folder replaces it whole.
    try (CausalLM model = ModelLoader.load(out)) {
      ModelSaver.save(model, out, DType.BF16, null);
    }
    try (SafetensorsFile b = SafetensorsFile.open(out.resolve("model.safetensors"))) {
      assertEquals(DType.BF16, b.info("lm_head.weight").dtype());
    }
    assertNotEquals(true, Files.exists(out.resolve("generation_config.json")));
  }

  @Test
  void tiedModelSavesWithoutLmHead() throws Exception {
    Path src = Path.of("src/test/resources/arch/tied");
    try (CausalLM model = ModelLoader.load(src)) {
      ModelSaver.save(model, tmp.resolve("tied"), DType.F32, null);
    }
    try (SafetensorsFile b = SafetensorsFile.open(tmp.resolve("tied/model.safetensors"))) {
      assertTrue(!b.contains("lm_head.weight"));
      assertTrue(b.contains("model.embed_tokens.weight"));
    }
  }

  @Test
  void tokenizerRoundTripsTextThroughTheRealLibrary() throws Exception {
    Path tok = tmp.resolve("tokenizer.json");
    Files.writeString(tok, Json.MAPPER.writeValueAsString(
        ByteLevelBpe.tokenizerJson(List.of("<unk>", "<s>", "</s>"), List.of(new String[] {"h", "e"}, new String[] {"he", "l"}))));
    try (Tokenizer t = Tokenizer.load(tok)) {
      assertEquals(3 + 256 + 2, t.vocabSize());
      int[] ids = t.encode("hel lo");
      // "hel" is one merged token (id 3+256+1); then " " -> 'Ġ', "l", "o" as bytes ("Ġlo" is one pre-token).
      assertEquals(3 + 256 + 1, ids[0]);
      assertEquals("hel lo", t.decode(ids));
      assertEquals(64, t.fingerprint().length());
    }
  }
}
