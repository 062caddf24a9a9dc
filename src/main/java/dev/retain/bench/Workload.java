package dev.retain.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.retain.data.Batch;
import dev.retain.data.Packer;
import dev.retain.eval.HeldOutLoss;
import dev.retain.model.Bfloat16Copies;
import dev.retain.model.CausalLM;
import dev.retain.model.Generator;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.PackedInputs;
import dev.retain.model.Parameter;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraConfig;
import dev.retain.peft.lora.LoraModel;
import dev.retain.peft.lora.TargetModules;
import dev.retain.retention.Distillation;
import dev.retain.retention.Ewc;
import dev.retain.retention.Importance;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.tensor.Host;
import dev.retain.train.AdamW;
import dev.retain.train.GradClip;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One benchmark case, built and run in this process: the model with random weights, the adapters and
 * loss terms the case names, synthetic batches, and the step.
 *
 * <p>The training step is the work of {@code Trainer.trainStepInner} + {@code microStep} with one
 * micro-batch, op for op: seed the engine, open one NDScope; create ids, positions, the packed causal
 * mask and the target positions ({@code PackedInputs}); inside one GradientCollector: forward to the
 * logits at the target positions, mean CE, each loss
 * term (read back with getFloat, as the trainer does), CE read back, backward, loss read back,
 * afterBackward hooks; then the global gradient norm (one square-sum per trainable tensor) with
 * clipping at 1.0, AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01 except on 1-D tensors) on
 * every trainable tensor, zero the gradients, close the scope; then afterOptimizerStep hooks. What
 * the trainer does around steps (data packing, progress line, metrics) is left out.
 *
 * <p>Data: every row is one document of {@code seq} tokens drawn uniformly from [3, vocab) by
 * SplitMix64 from the seed (bench/peer.py draws the same ids); targets are the next tokens, the last
 * position has none, and with a target share below 1 neither do the row's first positions (a prompt).
 */
public final class Workload implements AutoCloseable {
  /** Sizes and knobs shared by retain and the peer. */
  public record Settings(int batch, int seq, int steps, int warmup, long seed, int loraR, double loraAlpha,
                         int genPrompt, int genTokens, double lr, double ewcLambda, double kdWeight, double kdTemperature,
                         double targetShare) {
    public Settings {
      if (!(targetShare > 0 && targetShare <= 1)) {
        throw new IllegalArgumentException("target share must be in (0, 1], got " + targetShare);
      }
    }

    public static Settings defaults() {
      return new Settings(16, 128, 8, 2, 42, 8, 32, 16, 64, 3e-4, 100.0, 1.0, 2.0, 1.0);
    }

    public Settings withShape(int b, int t) {
      return new Settings(b, t, steps, warmup, seed, loraR, loraAlpha, genPrompt, genTokens, lr, ewcLambda, kdWeight,
          kdTemperature, targetShare);
    }

    public Settings withSteps(int s, int w) {
      return new Settings(batch, seq, s, w, seed, loraR, loraAlpha, genPrompt, genTokens, lr, ewcLambda, kdWeight,
          kdTemperature, targetShare);
    }

    public Settings withGeneration(int prompt, int tokens) {
      return new Settings(batch, seq, steps, warmup, seed, loraR, loraAlpha, prompt, tokens, lr, ewcLambda, kdWeight,
          kdTemperature, targetShare);
    }

    public Settings withLoraR(int r) {
      return new Settings(batch, seq, steps, warmup, seed, r, loraAlpha, genPrompt, genTokens, lr, ewcLambda, kdWeight,
          kdTemperature, targetShare);
    }

    /** The share of each row's positions that carry loss: the row's end, after a "prompt" without targets. */
    public Settings withTargetShare(double share) {
      return new Settings(batch, seq, steps, warmup, seed, loraR, loraAlpha, genPrompt, genTokens, lr, ewcLambda, kdWeight,
          kdTemperature, share);
    }

    /** The first position of a row with a target (bench/peer.py computes the same). */
    public int firstTarget() {
      return seq - 1 - (int) Math.round(targetShare * (seq - 1));
    }

    /** Positions per step that carry loss: the last position has none. */
    public long targetPositions() {
      return (long) batch * (seq - 1 - firstTarget());
    }
  }

  static final double BETA1 = 0.9;
  static final double BETA2 = 0.999;
  static final double EPS = 1e-8;
  static final double WEIGHT_DECAY = 0.01;
  static final double GRAD_CLIP = 1.0;
  /** Distinct batches cycled through (the data's content does not change the work). */
  static final int DISTINCT_BATCHES = 4;

  public final BenchCase kase;
  public final ModelConfig config;
  public final Settings s;
  private final CausalLM model;
  /** The frozen copy of the starting model that full + distillation distils from (null otherwise). */
  private CausalLM teacher;
  private LoraModel lora;
  /** bfloat16 copies of the base weights: lora_kd_bf16's teacher, the bfloat16-base cases' whole base (null otherwise). */
  private Bfloat16Copies bfloat16;
  private final List<LossTerm> terms = new ArrayList<>();
  private final Map<String, Parameter> trainable = new LinkedHashMap<>();
  private final Map<String, AdamW.Group> groups = new LinkedHashMap<>();
  private final AdamW optimizer = new AdamW(BETA1, BETA2, EPS);
  private final Batch[] batches;
  private long step;
  /** Wall-clock nanoseconds of each phase of the last training step, by name, in order. */
  private final Map<String, Long> phases = new LinkedHashMap<>();
  private long mark;
  private float lastLoss = Float.NaN;
  private float firstLoss = Float.NaN;

  public Workload(BenchCase kase, ModelConfig config, Settings s) {
    this.kase = kase;
    this.config = config;
    this.s = s;
    Backend.seed((int) s.seed());
    model = ModelLoader.random(config, s.seed(), 0.02);
    if (kase.loraQv()) {
      lora = Lora.apply(model, loraConfig(s, TargetModules.names("q_proj", "v_proj")), s.seed());
    } else if (kase == BenchCase.LORA_ALL) {
      lora = Lora.apply(model, loraConfig(s, TargetModules.allLinear()), s.seed());
    } else if (kase.training) {
      model.parameters().values().forEach(p -> p.setTrainable(true)); // full fine-tuning
    }
    for (Map.Entry<String, Parameter> e : model.allParameters().entrySet()) {
      if (e.getValue().trainable()) {
        trainable.put(e.getKey(), e.getValue());
      }
    }
    if (kase.bfloat16Base() || kase == BenchCase.LORA_KD_BF16) {
      bfloat16 = Bfloat16Copies.of(model);
    }
    if (kase == BenchCase.FULL_EWC) {
      terms.add(new Ewc(model, syntheticFisher(model, s.seed()), s.ewcLambda()));
    } else if (kase.loraDistills()) {
      Distillation kd = new Distillation(s.kdWeight(), s.kdTemperature(), Distillation.On.ALL, Set.of());
      terms.add(bfloat16 == null ? kd : kd.withBfloat16Teacher(bfloat16));
    } else if (kase == BenchCase.FULL_KD) {
      // as the recipe does for full fine-tuning: a second model with the starting weights, never trained
      teacher = ModelLoader.random(config, s.seed(), 0.02);
      terms.add(new Distillation(teacher, s.kdWeight(), s.kdTemperature(), Distillation.On.ALL, Set.of()));
    }
    for (LossTerm t : terms) {
      t.onTrainableChanged(trainable.keySet());
    }
    batches = new Batch[DISTINCT_BATCHES];
    for (int i = 0; i < batches.length; i++) {
      batches[i] = syntheticBatch(i, s.batch(), s.seq(), s.firstTarget(), config.vocabSize, s.seed() + i);
    }
  }

  static LoraConfig loraConfig(Settings s, TargetModules targets) {
    return new LoraConfig(s.loraR(), s.loraAlpha(), 0.0, false, targets, null);
  }

  /** LoRA target short names of a case (empty for non-LoRA cases). */
  public static Set<String> loraTargets(BenchCase c) {
    return switch (c) {
      case LORA_ALL -> new LinkedHashSet<>(List.of(Flops.MODULES));
      default -> c.loraQv() ? Set.of("q_proj", "v_proj") : Set.of();
    };
  }

  /** Positive random "Fisher" values for every base weight: the EWC penalty's cost does not depend on them. */
  static Importance syntheticFisher(CausalLM model, long seed) {
    SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
    Map<String, float[]> values = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
      float[] v = new float[Math.toIntExact(e.getValue().numel())];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (rng.nextDouble() * 1e-3);
      }
      values.put(e.getKey(), v);
      shapes.put(e.getKey(), e.getValue().data().getShape().getShape());
    }
    return new Importance(values, shapes, Map.of(Importance.KIND, Importance.FISHER, Importance.SAMPLES, "0"));
  }

  /** SplitMix64 (Steele, Lea, Flood 2014), the generator both sides use for the token ids. */
  static final class SplitMix {
    private long state;

    SplitMix(long seed) {
      state = seed;
    }

    long next() {
      long z = (state += 0x9E3779B97F4A7C15L);
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    /** A token id in [3, vocab). */
    long token(int vocab) {
      return 3 + Long.remainderUnsigned(next(), vocab - 3);
    }
  }

  /** Token ids [rows * seq] drawn by SplitMix64 from {@code seed}. */
  public static long[] syntheticIds(int rows, int seq, int vocab, long seed) {
    SplitMix r = new SplitMix(seed);
    long[] ids = new long[rows * seq];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.token(vocab);
    }
    return ids;
  }

  /** One document per row; positions before {@code firstTarget} (a prompt) and the last have no target. */
  static Batch syntheticBatch(int index, int rows, int seq, int firstTarget, int vocab, long seed) {
    long[] ids = syntheticIds(rows, seq, vocab, seed);
    long[] targets = new long[ids.length];
    long[] positions = new long[ids.length];
    int[][] segments = new int[rows][seq];
    String[] sources = new String[rows];
    for (int r = 0; r < rows; r++) {
      sources[r] = "bench";
      for (int t = 0; t < seq; t++) {
        int i = r * seq + t;
        positions[i] = t;
        targets[i] = t >= firstTarget && t + 1 < seq ? ids[i + 1] : Packer.IGNORE;
      }
    }
    return new Batch(0, index, seq, ids, targets, positions, segments, sources, rows * (seq - 1 - firstTarget), rows);
  }

  public CausalLM model() {
    return model;
  }

  /** Trainable parameters (empty for eval and generation). */
  public Map<String, Parameter> trainable() {
    return trainable;
  }

  public long trainableParams() {
    return trainable.values().stream().mapToLong(Parameter::numel).sum();
  }

  /** Every parameter, base and adapters. */
  public long totalParams() {
    return model.allParameters().values().stream().mapToLong(Parameter::numel).sum();
  }

  /** Bytes of AdamW moments held now. */
  public long optimizerStateBytes() {
    return optimizer.stateBytes();
  }

  public float firstLoss() {
    return firstLoss;
  }

  public float lastLoss() {
    return lastLoss;
  }

  /** Tokens one {@link #run} call processes (rows x seq for training and eval, new tokens for generation). */
  public long tokensPerRun() {
    return kase == BenchCase.GENERATE ? s.genTokens() : (long) s.batch() * s.seq();
  }

  /** One unit of the case's work: a training step, an evaluation batch, or one generation call. */
  public void run() {
    switch (kase) {
      case EVAL -> evalBatch();
      case GENERATE -> generate();
      default -> trainStep();
    }
    step++;
  }

  private void evalBatch() {
    Batch b = batches[(int) (step % batches.length)];
    HeldOutLoss.Total t = HeldOutLoss.total(model, List.of(b));
    lastLoss = (float) t.mean();
    if (Float.isNaN(firstLoss)) {
      firstLoss = lastLoss;
    }
  }

  private void generate() {
    long[] p = syntheticIds(1, s.genPrompt(), config.vocabSize, s.seed() + 1000 + step);
    int[] prompt = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      prompt[i] = (int) p[i];
    }
    int[] out = Generator.generate(model, prompt, Generator.Sampling.greedy(s.genTokens(), List.of()), true);
    if (out.length != s.genTokens()) {
      throw new IllegalStateException("generation stopped after " + out.length + " of " + s.genTokens() + " tokens");
    }
  }

  /** The trainer's step (see the class comment). */
  private void trainStep() {
    if (lora != null) {
      lora.setTraining(true);
    }
    try {
      trainStepInner();
    } finally {
      if (lora != null) {
        lora.setTraining(false);
      }
    }
  }

  private void trainStepInner() {
    phases.clear();
    mark = System.nanoTime();
    Backend.seed((int) (s.seed() * 1_000_003L + step));
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      microStep(batches[(int) (step % batches.length)]);
      clipAndCheck();
      phase("clip");
      optimizer.step(trainable, s.lr(), n -> group(n, trainable.get(n)));
      phase("adamw");
      for (Parameter p : trainable.values()) {
        Grads.zero(p.data());
      }
      phase("zero_grad");
    }
    phase("close_scope");
    for (LossTerm t : terms) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        t.afterOptimizerStep(StepContext.afterStep(step, model, trainable, s.lr()));
      }
    }
    if (!terms.isEmpty()) {
      phase("term_hooks");
    }
  }

  private void phase(String name) {
    long now = System.nanoTime();
    phases.merge(name, now - mark, Long::sum);
    mark = now;
  }

  /** Seconds spent in each phase of the last training step (inputs, forward, loss, backward, clip, adamw, ...). */
  public Map<String, Double> lastPhases() {
    Map<String, Double> out = new LinkedHashMap<>();
    phases.forEach((k, v) -> out.put(k, v / 1e9));
    return out;
  }

  private void microStep(Batch batch) {
    NDManager m = model.manager();
    PackedInputs in = PackedInputs.of(m, batch.seqLen(), batch.inputIds(), batch.positions(), batch.segments(),
        batch.targets());
    NDArray mean = Host.scalar(m, 1f / Math.max(1, in.count()));
    phase("inputs");
    try (GradientCollector gc = Backend.engine().newGradientCollector()) {
      // the bfloat16-base cases: the student's pass on the base's copies (the recipe's base_precision)
      NDArray logits = Bfloat16Copies.run(kase.bfloat16Base() ? bfloat16 : null, () -> model.targetLogits(in));
      phase("forward");
      NDArray ce = in.loss(logits).mul(mean);
      NDArray loss = ce;
      StepContext ctx = new StepContext(step, model, batch, in, logits, trainable, s.lr());
      for (LossTerm term : terms) {
        NDArray v = LossTerm.scopedLoss(term, ctx);
        if (v != null) {
          float value = v.getFloat();
          check(term.name(), value);
          loss = loss.add(v);
        }
      }
      logits.close(); // as the trainer: the backward needs log-softmax's output, not the raw logits
      check("CE", ce.getFloat());
      phase("loss");
      gc.backward(loss);
      lastLoss = loss.getFloat();
      if (Float.isNaN(firstLoss)) {
        firstLoss = lastLoss;
      }
      for (LossTerm term : terms) {
        term.afterBackward(ctx);
      }
    }
    phase("backward");
  }

  private void check(String what, float v) {
    if (!Float.isFinite(v)) {
      throw new IllegalStateException("benchmark step " + step + ": " + what + " is " + v);
    }
  }

  private double clipAndCheck() {
    List<NDArray> grads = GradClip.gradients(trainable.values());
    double norm = GradClip.globalNorm(grads);
    check("gradient norm", (float) norm);
    GradClip.clip(grads, norm, GRAD_CLIP);
    return norm;
  }

  private AdamW.Group group(String name, Parameter p) {
    return groups.computeIfAbsent(name, n -> {
      boolean noDecay = !AdamW.decays(n, p);
      return new AdamW.Group(1.0, noDecay ? 0 : WEIGHT_DECAY);
    });
  }

  /** FLOPs per token of this case (see {@link Flops}). */
  public double flopsPerToken() {
    return flopsPerToken(kase, config, s);
  }

  public static double flopsPerToken(BenchCase kase, ModelConfig c, Settings s) {
    return switch (kase) {
      case FULL, FULL_EWC -> Flops.trainFull(c, s.seq());
      case FULL_KD -> Flops.trainFull(c, s.seq()) + Flops.forward(c, s.seq());
      case LORA_QV, LORA_QV_BF16, LORA_ALL -> Flops.trainLora(c, s.seq(), s.loraR(), loraTargets(kase));
      case LORA_KD, LORA_KD_BF16, LORA_KD_BF16_BASE -> Flops.trainLora(c, s.seq(), s.loraR(), loraTargets(kase)) + Flops.forward(c, s.seq());
      case EVAL -> Flops.forward(c, s.seq());
      case GENERATE -> Flops.generateMean(c, s.genPrompt(), s.genTokens());
    };
  }

  @Override
  public void close() {
    for (LossTerm t : terms) {
      if (t instanceof AutoCloseable a) {
        try {
          a.close();
        } catch (Exception e) {
          // closing native memory at the end of a benchmark: nothing to recover
        }
      }
    }
    if (teacher != null) {
      teacher.close();
    }
    if (bfloat16 != null) {
      bfloat16.close();
    }
    model.close();
  }
}
