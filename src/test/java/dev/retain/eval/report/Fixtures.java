package dev.retain.eval.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A hand-made comparison whose derived numbers are easy to compute on paper. Base: general 0.80,
 * domain 0.30, general CE 2.00.
 *
 * <pre>
 * method  G_after D_after  retention drop  reduction gain share-of-naive targets   front
 * naive   0.60    0.70     0.75      0.20  0         0.40 1.00           no (G)    yes
 * replay  0.78    0.66     0.975     0.02  0.90      0.36 0.90           yes       yes
 * ewc     0.76    0.64     0.95      0.04  0.80      0.34 0.85           yes (=95%) no (replay)
 * lora    0.79    0.50     0.9875    0.01  0.95      0.20 0.50           no (D)    no (all)
 * all     0.81    0.62     1.0125   -0.01  1.05      0.32 0.80           yes (=80%) yes
 * </pre>
 */
final class Fixtures {
  static final String DATE = "2025-01-31";

  private Fixtures() {}

  static Comparison comparison() {
    List<MethodResult> m = new ArrayList<>();
    m.add(method("naive", "plain full fine-tuning, no protection", 0.60, 0.70, 2.50, 6_800_000, 6_800_000).build());
    m.add(method("replay", "15% -> 30% general replay", 0.78, 0.66, 2.05, 6_800_000, 6_800_000).build());
    MethodResult.Builder ewc = method("ewc", "EWC lambda 1000, Fisher from 256 general sequences", 0.76, 0.64, 2.10, 6_800_000, 6_800_000);
    for (int layer = 0; layer < 6; layer++) {
      ewc.fisher(layer, 10.0 / (layer + 1) + 0.5 * layer);
    }
    m.add(ewc.build());
    m.add(method("lora", "LoRA r=8 on q,v; base frozen", 0.79, 0.50, 2.01, 294_912, 7_094_912).build());
    m.add(method("all", "replay + staged + EWC + LoRA + distillation", 0.81, 0.62, 1.99, 294_912, 7_094_912).build());
    return new Comparison("tiny-llama-6.8M", new Score(0.80, 0.75, 0.85), new Score(0.30, 0.25, 0.36), 2.00,
        List.of(new SuiteScore("arith", "general", "exact", 0.82), new SuiteScore("trivia", "general", "choice", 0.78),
            new SuiteScore("wiki", "general", "text", 2.00), new SuiteScore("cardio", "domain", "choice", 0.30)),
        "quick", 42, "cardio QA (domain) + wiki and trivia (general)", m, new Machine(2, "OpenJDK 64-Bit Server VM 17"), DATE);
  }

  /** A method whose live curves move from the base scores to its final scores over 200 steps. */
  static MethodResult.Builder method(String name, String description, double g, double d, double ce, long trainable, long total) {
    MethodResult.Builder b = MethodResult.builder(name).description(description)
        .general(new Score(g, g - 0.05, Math.min(1, g + 0.05))).domain(new Score(d, d - 0.05, d + 0.05)).generalCe(ce)
        .params(trainable, total).peakRssBytes(512L << 20).tokensPerSecond(1500).wallSeconds(192)
        .suite(new SuiteScore("arith", "general", "exact", g + 0.02)).suite(new SuiteScore("trivia", "general", "choice", g - 0.02))
        .suite(new SuiteScore("wiki", "general", "text", ce)).suite(new SuiteScore("cardio", "domain", "choice", d));
    for (int step = 0; step <= 200; step += 25) {
      double t = step / 200.0;
      double ease = Math.sqrt(t);
      b.point(new CurvePoint(step, 0.80 + (g - 0.80) * ease, 0.30 + (d - 0.30) * ease, 3.0 - 1.2 * ease));
    }
    return b;
  }
}
