package dev.retain.eval;

import ai.djl.ndarray.NDScope;
import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.Packer;
import dev.retain.data.RawExample;
import dev.retain.model.CausalLM;
import dev.retain.model.Generator;
import dev.retain.model.PackedInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs probe suites on a model: exact match of greedy answers (batched KV-cache generation, each row
 * stopped at eos or a newline, then {@link Probes#normalise}), multiple choice by the summed
 * log-likelihood of each choice's tokens (" " + choice, then eos, as training encodes a completion)
 * given the prompt (all choices of several items in one batched pass), and cross-entropy on text.
 * Accuracies carry Wilson 95% intervals.
 */
public final class ProbeRunner {
  /** Score of one suite. For text suites, {@code score} is the mean cross-entropy (nats/token). */
  public record Result(String name, Probes.Kind kind, String role, int n, int correct, double score,
                       double low, double high, double seconds) {
    public double accuracy() {
      return kind == Probes.Kind.TEXT ? Double.NaN : score;
    }

    public double perplexity() {
      return kind == Probes.Kind.TEXT ? Math.exp(score) : Double.NaN;
    }
  }

  /** Items per batched forward pass (exact-match generation and multiple choice). */
  static final int BATCH = 16;

  private final CausalLM model;
  private final Encoder encoder;
  private final int maxNewTokens;
  private final Set<Integer> stops = new HashSet<>();

  public ProbeRunner(CausalLM model, Encoder encoder, int maxNewTokens) {
    this.model = model;
    this.encoder = encoder;
    this.maxNewTokens = maxNewTokens;
    stops.addAll(model.config.eosTokenIds);
    for (int id : encoder.tokenizer().encode("\n")) {
      stops.add(id);
    }
  }

  public List<Result> run(List<Probes.Suite> suites, int limit) {
    List<Result> out = new ArrayList<>();
    for (Probes.Suite s : suites) {
      out.add(run(s, limit));
    }
    return out;
  }

  /** Scores one suite on its first {@code limit} items (all when limit <= 0). */
  public Result run(Probes.Suite suite, int limit) {
    long t0 = System.nanoTime();
    List<Probes.Item> items = limit > 0 && limit < suite.items().size() ? suite.items().subList(0, limit) : suite.items();
    int correct = 0;
    double score;
    switch (suite.kind()) {
      case EXACT -> {
        for (int i = 0; i < items.size(); i += BATCH) {
          List<Probes.Item> batch = items.subList(i, Math.min(items.size(), i + BATCH));
          List<String> answers = answers(batch);
          for (int k = 0; k < batch.size(); k++) {
            if (Probes.normalise(answers.get(k)).equals(Probes.normalise(batch.get(k).answer()))) {
              correct++;
            }
          }
        }
        score = correct / (double) items.size();
      }
      case CHOICE -> {
        for (int i = 0; i < items.size(); i += BATCH) {
          for (int[] pick : choose(items.subList(i, Math.min(items.size(), i + BATCH)))) {
            if (pick[0] == pick[1]) {
              correct++;
            }
          }
        }
        score = correct / (double) items.size();
      }
      case TEXT -> {
        List<Example> ex = new ArrayList<>();
        for (Probes.Item it : items) {
          ex.add(encoder.encode(new RawExample.Text(it.text())));
        }
        score = HeldOutLoss.meanLoss(model, new Packer(encoder.seqLen(), 8, Math.max(0, encoder.eos())).pack(suite.name(), ex));
      }
      default -> throw new IllegalStateException();
    }
    double[] ci = suite.kind() == Probes.Kind.TEXT ? new double[] {Double.NaN, Double.NaN} : Wilson.interval(correct, items.size());
    return new Result(suite.name(), suite.kind(), suite.role(), items.size(), correct, score, ci[0], ci[1],
        (System.nanoTime() - t0) / 1e9);
  }

  /** The model's greedy answer to a prompt (text after the prompt, up to a stop token). */
  public String answer(String prompt) {
    return answer(prompt, maxNewTokens);
  }

  /**
   * Greedy answers to a batch of exact-match items in one batched generation. A generation longer
   * than the answer plus a few tokens of slack cannot match it, so each row stops there.
   */
  List<String> answers(List<Probes.Item> items) {
    List<int[]> prompts = new ArrayList<>();
    int[] budgets = new int[items.size()];
    for (int k = 0; k < items.size(); k++) {
      Probes.Item it = items.get(k);
      prompts.add(encoder.completionPrompt(it.prompt()));
      budgets[k] = Math.min(maxNewTokens, encoder.tokenizer().encode(" " + it.answer()).length + 4);
    }
    List<String> out = new ArrayList<>();
    for (int[] ids : Generator.greedyBatch(model, prompts, budgets, stops)) {
      out.add(encoder.tokenizer().decode(ids));
    }
    return out;
  }

  private String answer(String prompt, int maxTokens) {
    int[] ids = encoder.completionPrompt(prompt);
    int[] out = Generator.generate(model, ids, Generator.Sampling.greedy(maxTokens, stops), true);
    return encoder.tokenizer().decode(out);
  }

  /** A choice as a completion of the prompt: after a space, unless the prompt or the choice has one. */
  static String choiceText(String prompt, String choice) {
    boolean spaced = choice.startsWith(" ") || prompt.isEmpty() || Character.isWhitespace(prompt.charAt(prompt.length() - 1));
    return spaced ? choice : " " + choice;
  }

  /** For each item: {chosen index, right index}. One forward pass over every choice of the items. */
  List<int[]> choose(List<Probes.Item> items) {
    List<int[]> out = new ArrayList<>();
    List<double[]> scores = scores(items);
    for (int k = 0; k < items.size(); k++) {
      double[] s = scores.get(k);
      int best = 0;
      for (int c = 1; c < s.length; c++) {
        if (s[c] > s[best]) {
          best = c;
        }
      }
      out.add(new int[] {best, items.get(k).correctChoice()});
    }
    return out;
  }

  /** For each item, each choice's log-likelihood as a completion of the prompt (eos included). */
  List<double[]> scores(List<Probes.Item> items) {
    if (items.isEmpty()) {
      return List.of();
    }
    List<int[]> rows = new ArrayList<>();
    List<int[]> spans = new ArrayList<>(); // [row, firstTarget, endExclusive] per choice
    for (Probes.Item it : items) {
      int[] prompt = encoder.completionPrompt(it.prompt());
      for (String c : it.choices()) {
        // Scored as training encodes a completion: " " + choice, then eos (docs/probes.md). Without
        // the space the choice starts with a token the model never saw after "Answer:", and without
        // eos a choice that is the prefix of a longer answer is not penalised for stopping.
        int[] choice = encoder.tokenizer().encode(choiceText(it.prompt(), c));
        int eos = encoder.eos();
        int[] row = new int[prompt.length + choice.length + (eos >= 0 ? 1 : 0)];
        System.arraycopy(prompt, 0, row, 0, prompt.length);
        System.arraycopy(choice, 0, row, prompt.length, choice.length);
        if (eos >= 0) {
          row[row.length - 1] = eos;
        }
        spans.add(new int[] {rows.size(), prompt.length, row.length});
        rows.add(row);
      }
    }
    int t = rows.stream().mapToInt(r -> r.length).max().orElse(1);
    long[] ids = new long[rows.size() * t];
    long[] targets = new long[rows.size() * t];
    Arrays.fill(targets, -1);
    for (int r = 0; r < rows.size(); r++) {
      for (int i = 0; i < t; i++) {
        ids[r * t + i] = i < rows.get(r).length ? rows.get(r)[i] : Math.max(0, encoder.eos());
      }
    }
    for (int[] sp : spans) {
      // log p(token i | <i): position i-1 predicts token i. Token 0 has no prediction (empty prompt, no bos).
      for (int i = Math.max(1, sp[1]); i < sp[2]; i++) {
        targets[sp[0] * t + i - 1] = ids[sp[0] * t + i];
      }
    }
    float[] nll;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      // Right padding under a causal mask leaves the real tokens' logits untouched; the head runs
      // only at the choices' tokens.
      PackedInputs in = PackedInputs.of(model.manager(), t, ids, null, null, targets);
      nll = in.count() == 0 ? new float[0] : in.tokenLoss(model.targetLogits(in)).toFloatArray();
    }
    List<double[]> out = new ArrayList<>();
    int k = 0;
    int n = 0; // target positions come row by row, one row per choice, in order
    for (Probes.Item it : items) {
      double[] s = new double[it.choices().size()];
      for (int c = 0; c < s.length; c++, k++) {
        int[] sp = spans.get(k);
        for (int i = Math.max(1, sp[1]); i < sp[2]; i++) {
          s[c] -= nll[n++];
        }
      }
      out.add(s);
    }
    return out;
  }
}
