package dev.retain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.data.Encoder;
import dev.retain.model.CausalLM;
import dev.retain.model.Tokenizer;
import dev.retain.train.RunConfig;
import dev.retain.testutil.Tiny;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeRunnerTest {
  @TempDir Path tmp;

  /** Sum of log p(choice | prompt) computed directly, one sequence at a time. */
  static double directLogLikelihood(CausalLM model, int[] prompt, int[] choice) {
    int[] row = new int[prompt.length + choice.length];
    System.arraycopy(prompt, 0, row, 0, prompt.length);
    System.arraycopy(choice, 0, row, prompt.length, choice.length);
    long[] ids = new long[row.length];
    for (int i = 0; i < row.length; i++) {
      ids[i] = row[i];
    }
    try (NDManager m = model.manager().newSubManager()) {
      NDArray input = m.create(ids, new Shape(1, ids.length));
      float[] loss = CausalLM.nextTokenLoss(model.logits(input), input).toFloatArray();
      double s = 0;
      for (int i = prompt.length - 1; i < loss.length; i++) {
        s -= loss[i];
      }
      return s;
    }
  }

  @Test
  void multipleChoicePicksTheLearnedAnswerAndMatchesDirectLikelihoods() throws Exception {
    RunConfig.Training cfg = new RunConfig.Training();
    cfg.lr = 1e-2;
    try (CausalLM model = Tiny.model(4)) {
      // Train on "the heart " -> {pumps blood, has four chambers, beats often, needs oxygen}.
      Tiny.trainer(tmp, model, cfg, 8, List.of()).run();
      try (Tokenizer tok = Tokenizer.load(tmp.resolve("tokenizer.json"))) {
        Encoder enc = new Encoder(tok, 1, 2, 32);
        ProbeRunner runner = new ProbeRunner(model, enc, 24);
        Probes.Item item = new Probes.Item("the heart ", null,
            List.of("xq zv", "pumps blood", "qq kk jj", "zz yy"), 1, null);
        Probes.Item item2 = new Probes.Item("the heart ", null,
            List.of("has four chambers", "kq zz", "vv xx", "jj qq"), 0, null);
        List<int[]> picks = runner.choose(List.of(item, item2));
        assertEquals(1, picks.get(0)[0]);
        assertEquals(0, picks.get(1)[0]);
        // The batched scores (one padded pass, the head only at the choices' tokens) are the direct
        // per-sequence likelihoods, choice by choice.
        int[] prompt = enc.completionPrompt("the heart ");
        List<double[]> scores = runner.scores(List.of(item, item2));
        double best = Double.NEGATIVE_INFINITY;
        int argmax = -1;
        for (int k = 0; k < 2; k++) {
          Probes.Item it = k == 0 ? item : item2;
          for (int c = 0; c < 4; c++) {
            int[] choice = tok.encode(it.choices().get(c));
            int[] withEos = java.util.Arrays.copyOf(choice, choice.length + 1);
            withEos[choice.length] = 2;
            double ll = directLogLikelihood(model, prompt, withEos);
            assertEquals(ll, scores.get(k)[c], 1e-4 * Math.max(1, Math.abs(ll)), "item " + k + " choice " + c);
            if (k == 0 && ll > best) {
              best = ll;
              argmax = c;
            }
          }
        }
        assertEquals(1, argmax);
        assertTrue(runner.scores(List.of()).isEmpty());

        Probes.Suite suite = new Probes.Suite("mc", Probes.Kind.CHOICE, "domain", "", List.of(item, item2));
        ProbeRunner.Result r = runner.run(suite, 0);
        assertEquals(2, r.correct());
        assertEquals(1.0, r.accuracy());
        assertTrue(r.low() > 0.3 && r.high() == 1.0);

        // Exact match: the greedy continuation is one of the trained facts.
        String a = runner.answer("the heart ");
        assertTrue(List.of("pumps blood", "has four chambers", "beats often", "needs oxygen").contains(Probes.normalise(a)), a);
      }
    }
  }

  @Test
  void suitesLoadFromAFolderWithClearErrors() throws Exception {
    Files.writeString(tmp.resolve("suites.json"), "[{\"name\": \"m\", \"kind\": \"exact\", \"file\": \"m.jsonl\", \"role\": \"general\"}]");
    Files.writeString(tmp.resolve("m.jsonl"), "{\"prompt\": \"Question: 1 plus 1?\\nAnswer:\", \"answer\": \"2\"}\n");
    List<Probes.Suite> s = Probes.load(tmp);
    assertEquals(1, s.size());
    assertEquals(Probes.Kind.EXACT, s.get(0).kind());
    Files.writeString(tmp.resolve("m.jsonl"), "{\"prompt\": \"x\"}\n");
    String m = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> Probes.load(tmp)).getMessage();
    assertTrue(m.contains("m.jsonl:1") && m.contains("answer"), m);
  }

  @Test
  void choicesAreScoredAsTrainingEncodesACompletion() {
    // "Answer:" + " aorta" is how a prompt/completion pair is written; a prompt ending in white space
    // or a choice with its own space gets none added.
    assertEquals(" aorta", ProbeRunner.choiceText("Question: x?\nAnswer:", "aorta"));
    assertEquals("pumps blood", ProbeRunner.choiceText("the heart ", "pumps blood"));
    assertEquals(" aorta", ProbeRunner.choiceText("Answer:", " aorta"));
  }
}
