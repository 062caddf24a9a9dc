package dev.retain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.data.Batch;
import dev.retain.data.Batches;
import dev.retain.data.EpochPlan;
import dev.retain.data.Example;
import dev.retain.data.Mixture;
import dev.retain.data.Packer;
import dev.retain.eval.RetentionBudget;
import dev.retain.model.Bfloat16Copies;
import dev.retain.model.CausalLM;
import dev.retain.model.PackedInputs;
import dev.retain.model.Parameter;
import dev.retain.peft.Adapter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Grads;
import dev.retain.tensor.Host;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The training loop. {@link #run} reads top to bottom: pick the stage, then for each optimizer step
 * run the micro-batches (forward, cross-entropy plus the extra terms, backward), check for NaN,
 * clip, step AdamW, zero the gradients; log, evaluate and checkpoint on schedule. Every tensor made
 * during a step is closed at the step's end (one NDScope per step), so a long run stays flat.
 */
public final class Trainer {
  /**
   * What the loop needs; built by the train and pretrain commands from a {@link RunConfig}.
   * {@code baseCopies}, when given, are bfloat16 copies of the frozen base's linear weights that the
   * training passes run on (training.base_precision); null runs them in float32.
   */
  public record Setup(CausalLM model, Mixture mixture, Packer packer, Map<String, List<Example>> validation,
                      RunConfig.Training cfg, long seed, Path output, List<LossTerm> terms, Adapter adapter,
                      int epochs, LiveEval live, Bfloat16Copies baseCopies) {
    /** Names of the adapter's parameters (none without an adapter). */
    public Set<String> adapterNames() {
      return adapter == null ? Set.of() : adapter.parameterNames();
    }
  }

  /** A run's outcome. */
  public record Result(TrainerState state, Map<String, Double> validationLoss, double seconds, long tokens) {}

  /** A stage resolved to steps. */
  record StageSpan(String name, ParamSelector trainable, double lr, long start, long end) {}

  /** Thrown when the loss or a gradient is not finite and the run is set to stop. */
  public static final class NonFiniteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NonFiniteException(String message) {
      super(message);
    }
  }

  private final Setup s;
  private final CausalLM model;
  private final RunConfig.Training cfg;
  private final AdamW optimizer;
  private final Checkpoints checkpoints;
  private Mixture mixture;
  private List<StageSpan> stages;
  private long totalSteps;
  private int[] batchesPerEpoch;
  /** Scale of each loss term by name (the retention budget raises distillation's). */
  private final Map<String, Double> termScale = new LinkedHashMap<>();
  private TrainerState state = new TrainerState();
  private Map<String, Parameter> trainable = new LinkedHashMap<>();
  private Batches epochBatches;
  private Progress progress;
  private MetricsLog metrics;
  /** For tests: stop (as if killed) after this many optimizer steps. */
  private long stopAfter = Long.MAX_VALUE;

  public Trainer(Setup setup) {
    this.s = setup;
    this.model = setup.model();
    this.cfg = setup.cfg();
    this.optimizer = new AdamW(cfg.beta1, cfg.beta2, cfg.eps);
    this.checkpoints = new Checkpoints(setup.output().resolve("checkpoints"), cfg.keepCheckpoints);
    this.mixture = setup.mixture();
    planSteps();
    state.seed = setup.seed();
    applyStage(0);
  }

  /**
   * Counts the batches of every epoch's plan and resolves the stages and the run's length from them;
   * called again when the retention budget raises the replay ratio of later epochs.
   */
  private void planSteps() {
    batchesPerEpoch = new int[s.epochs()];
    long micro = 0;
    for (int e = 0; e < s.epochs(); e++) {
      batchesPerEpoch[e] = s.packer().pack(mixture.plan(e)).size();
      micro += batchesPerEpoch[e];
    }
    long dataSteps = micro / cfg.gradAccum;
    if (dataSteps < 1) {
      throw new IllegalArgumentException("the data gives " + micro + " micro-batches over " + s.epochs()
          + " epoch(s), fewer than training.grad_accum = " + cfg.gradAccum + "; add data or lower grad_accum");
    }
    stages = resolveStages(dataSteps);
    long end = stages.get(stages.size() - 1).end();
    totalSteps = cfg.maxSteps == null ? end : Math.min(end, cfg.maxSteps);
    if (progress != null) {
      progress.setTotal(totalSteps);
    }
  }

  /** Turns the configured stages (epochs or steps) into step ranges over the data's steps. */
  private List<StageSpan> resolveStages(long dataSteps) {
    List<StageSpan> out = new ArrayList<>();
    if (cfg.stages.isEmpty()) {
      String what = RunConfig.Training.selector(cfg.trainable, !s.adapterNames().isEmpty());
      out.add(new StageSpan("train", ParamSelector.parse(what), cfg.lr, 0, dataSteps));
      return out;
    }
    long start = 0;
    int epochEnd = 0;
    for (int i = 0; i < cfg.stages.size(); i++) {
      RunConfig.Stage st = cfg.stages.get(i);
      long end;
      if (st.epochs != null) {
        epochEnd += st.epochs;
        if (epochEnd > s.epochs()) {
          throw new IllegalArgumentException("training.stages[" + i + "] ends after epoch " + epochEnd
              + " but the run has " + s.epochs() + " epoch(s)");
        }
        long micro = 0;
        for (int e = 0; e < epochEnd; e++) {
          micro += batchesPerEpoch[e];
        }
        end = micro / cfg.gradAccum;
      } else {
        end = start + st.steps;
      }
      if (end > dataSteps) {
        throw new IllegalArgumentException("training.stages[" + i + "] would end at step " + end + " but the data gives "
            + dataSteps + " steps over " + s.epochs() + " epoch(s); raise training.epochs or shorten the stage");
      }
      if (end <= start) {
        throw new IllegalArgumentException("training.stages[" + i + "] is empty (steps " + start + " to " + end + ")");
      }
      String name = st.name != null ? st.name : "stage" + (i + 1);
      String what = RunConfig.Training.selector(st.trainable, !s.adapterNames().isEmpty());
      out.add(new StageSpan(name, ParamSelector.parse(what), st.lr != null ? st.lr : cfg.lr, start, end));
      start = end;
    }
    return out;
  }

  public long totalSteps() {
    return totalSteps;
  }

  /** Test hook: return after this many optimizer steps without final checkpoint or save (a simulated kill). */
  public void stopAfter(long steps) {
    this.stopAfter = steps;
  }

  /** Continues from a checkpoint folder (written by this trainer for the same config). */
  public void resumeFrom(Path checkpoint) throws IOException {
    Checkpoints.Contents c = Checkpoints.load(checkpoint);
    state = c.state();
    if (state.extra.get("budget") instanceof Map<?, ?> b && s.live() != null && s.live().budget() != null) {
      s.live().budget().restore(b);
      applyProtections(s.live().budget());
    }
    applyStage(state.stage);
    restoreWeights(c, checkpoint, true);
  }

  /** Puts a checkpoint's trained weights, optimizer moments and term state into the model and optimizer. */
  private void restoreWeights(Checkpoints.Contents c, Path checkpoint, boolean strict) throws IOException {
    Map<String, Parameter> all = model.allParameters();
    for (Map.Entry<String, float[]> e : c.weights().entrySet()) {
      Parameter p = all.get(e.getKey());
      if (p == null) {
        throw new IOException(checkpoint + ": holds weights for '" + e.getKey() + "' which this model does not have; was the config changed?");
      }
      p.data().set(e.getValue());
    }
    for (Map.Entry<String, float[]> e : c.expAvg().entrySet()) {
      Parameter p = trainable.get(e.getKey());
      if (p == null) {
        if (!strict) {
          continue; // a rollback across a stage switch: moments of parameters frozen now are dropped
        }
        throw new IOException(checkpoint + ": optimizer state for '" + e.getKey() + "' which is not trainable in stage " + state.stage);
      }
      optimizer.restore(p, e.getValue(), c.expAvgSq().get(e.getKey()), c.state().adamSteps.getOrDefault(e.getKey(), 0L));
    }
    for (LossTerm t : s.terms()) {
      Map<String, float[]> mine = new LinkedHashMap<>();
      String prefix = t.name() + ".";
      c.extra().forEach((k, v) -> {
        if (k.startsWith(prefix)) {
          mine.put(k.substring(prefix.length()), v);
        }
      });
      t.restore(mine);
    }
  }

  /** Runs to the end (or to {@link #stopAfter}), writing metrics and checkpoints under the output folder. */
  public Result run() throws IOException {
    long startNanos = System.nanoTime();
    boolean resumed = state.step > 0;
    metrics = new MetricsLog(s.output().resolve("metrics.jsonl"), resumed ? state.step : -1);
    progress = new Progress("train", totalSteps);
    if (!resumed && s.live() != null && s.live().base() != null) {
      writeProbe(s.live().base()); // step 0 of the learning and forgetting curves: the base model
    }
    describeStage(state.stage);
    long tokensAtStart = state.tokensSeen;
    try {
      while (state.step < totalSteps) {
        if (state.step >= stages.get(state.stage).end()) {
          applyStage(state.stage + 1);
        }
        StageSpan stage = stages.get(state.stage);
        double lr = stage.lr() * schedule(stage).factor((int) state.stageStep);
        StepStats stats = trainStep(lr);
        state.step++;
        state.stageStep++;
        boolean log = state.step % cfg.logEvery == 0 || state.step == totalSteps;
        double secs = (System.nanoTime() - startNanos) / 1e9;
        double tps = (state.tokensSeen - tokensAtStart) / Math.max(1e-9, secs);
        progress.update(state.step, String.format("loss %.4f lr %.2e %.0f tok/s", stats.loss, lr, tps), log);
        if (log) {
          logStep(stats, lr, tps, stage);
        }
        if (cfg.evalEvery > 0 && state.step % cfg.evalEvery == 0 && state.step < totalSteps) {
          evaluate();
        }
        if (s.live() != null && state.step % s.live().every() == 0 && state.step < totalSteps) {
          liveEval();
        }
        if (state.step >= stopAfter) {
          return new Result(state, Map.of(), secs, state.tokensSeen);
        }
        if (cfg.checkpointEvery > 0 && state.step % cfg.checkpointEvery == 0 && state.step < totalSteps) {
          checkpoint();
        }
      }
      Map<String, Double> val = evaluate();
      checkpoint();
      return new Result(state, val, (System.nanoTime() - startNanos) / 1e9, state.tokensSeen);
    } finally {
      progress.finish();
      metrics.close();
    }
  }

  private LrSchedule schedule(StageSpan stage) {
    LrSchedule.Kind kind = LrSchedule.Kind.valueOf(cfg.schedule.name());
    // A run capped by max_steps decays over the steps it will actually take.
    int len = (int) (Math.min(stage.end(), totalSteps) - stage.start());
    return new LrSchedule(kind, Math.min(cfg.warmupSteps, Math.max(0, len - 1)), len, cfg.minLrRatio);
  }

  /** Freezes everything, then unfreezes what stage {@code i} names; newly trainable parameters get fresh moments. */
  private void applyStage(int i) {
    StageSpan stage = stages.get(i);
    Map<String, Parameter> all = model.allParameters();
    Set<String> selected = stage.trainable().select(all.keySet(), s.adapterNames(), model.config.numLayers,
        model.config.tieWordEmbeddings);
    if (selected.isEmpty()) {
      throw new IllegalArgumentException("stage '" + stage.name() + "': trainable '" + stage.trainable()
          + "' selects no parameter of this model");
    }
    Map<String, Parameter> next = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : all.entrySet()) {
      boolean on = selected.contains(e.getKey());
      e.getValue().setTrainable(on);
      if (on) {
        next.put(e.getKey(), e.getValue());
      }
    }
    for (String name : new ArrayList<>(optimizer.state().keySet())) {
      if (!next.containsKey(name) || !trainable.containsKey(name)) {
        optimizer.forget(name);
      }
    }
    boolean changed = !next.keySet().equals(trainable.keySet());
    trainable = next;
    state.trainedNames.addAll(next.keySet());
    if (state.stage != i) {
      state.stage = i;
      state.stageStep = 0;
    }
    for (LossTerm t : s.terms()) {
      t.onTrainableChanged(trainable.keySet());
    }
    if (changed && progress != null) {
      describeStage(i);
    }
  }

  private void describeStage(int i) {
    StageSpan stage = stages.get(i);
    long n = trainable.values().stream().mapToLong(Parameter::numel).sum();
    progress.println(String.format("stage %d/%d '%s': %s trainable (%,d parameters), lr %.2e, steps %d-%d", i + 1,
        stages.size(), stage.name(), stage.trainable(), n, stage.lr(), stage.start(), stage.end()));
  }

  /** Losses of one optimizer step. */
  static final class StepStats {
    double loss;
    double ce;
    double gradNorm;
    final Map<String, Double> terms = new LinkedHashMap<>();
    final Map<String, Integer> rowsBySource = new LinkedHashMap<>();
  }

  private StepStats trainStep(double lr) {
    StepStats stats = new StepStats();
    setTraining(true);
    try {
      return trainStepInner(lr, stats);
    } finally {
      setTraining(false);
    }
  }

  /** LoRA dropout is on only inside training steps (never in evaluation or the teacher pass). */
  private void setTraining(boolean on) {
    if (s.adapter() != null) {
      s.adapter().setTraining(on);
    }
  }

  private StepStats trainStepInner(double lr, StepStats stats) {
    Backend.seed((int) (state.seed * 1_000_003L + state.step));
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      boolean skip = false;
      for (int micro = 0; micro < cfg.gradAccum; micro++) {
        Batch batch = nextBatch();
        if (skip) {
          continue; // keep the data position as if the step had run
        }
        try {
          microStep(batch, lr, stats);
        } catch (SkipBatch e) {
          progress.println("skipping step " + (state.step + 1) + ": " + e.getMessage());
          state.skippedBatches++;
          skip = true;
        }
      }
      try {
        dev.retain.util.Faults.point("step.mid", state.step + 1);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      stats.gradNorm = skip ? Double.NaN : clipAndCheck();
      if (Double.isNaN(stats.gradNorm)) {
        zeroGrads();
        stats.loss = Double.NaN;
        return stats;
      }
      optimizer.step(trainable, lr, n -> group(n, trainable.get(n)));
      zeroGrads();
    }
    for (LossTerm t : s.terms()) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        t.afterOptimizerStep(StepContext.afterStep(state.step, model, trainable, lr));
      }
    }
    return stats;
  }

  private void microStep(Batch batch, double lr, StepStats stats) {
    PackedInputs in = PackedInputs.of(model.manager(), batch.seqLen(), batch.inputIds(), batch.positions(),
        batch.segments(), batch.targets());
    // The mean over the batch's targets and over the accumulated micro-batches, as one factor.
    NDArray mean = Host.scalar(model.manager(), 1f / (Math.max(1, in.count()) * cfg.gradAccum));
    try (GradientCollector gc = Backend.engine().newGradientCollector()) {
      NDArray logits = Bfloat16Copies.run(s.baseCopies(), () -> model.targetLogits(in));
      NDArray ce = in.loss(logits).mul(mean);
      if ("nan".equals(dev.retain.util.Faults.action("loss.nan", state.step + 1))) {
        ce = ce.mul(Consts.of(Float.NaN));
      }
      NDArray loss = ce;
      StepContext ctx = new StepContext(state.step, model, batch, in, logits, trainable, lr);
      Map<String, Float> termValues = new LinkedHashMap<>();
      for (LossTerm term : s.terms()) {
        NDArray v = LossTerm.scopedLoss(term, ctx);
        if (v != null) {
          float scale = (float) (termScale.getOrDefault(term.name(), 1.0) / cfg.gradAccum);
          NDArray scaled = scale == 1f ? v : v.mul(Consts.of(scale));
          termValues.put(term.name(), scaled.getFloat());
          loss = loss.add(scaled);
        }
      }
      // The raw logits [N, V] are read by the loss terms only; the backward needs log-softmax's output,
      // not them, so they go now rather than at the step's end (one N x V less at the peak).
      logits.close();
      float ceValue = ce.getFloat();
      checkFinite("CE", ceValue, batch);
      for (Map.Entry<String, Float> e : termValues.entrySet()) {
        checkFinite(e.getKey(), e.getValue(), batch);
      }
      gc.backward(loss);
      stats.ce += ceValue;
      stats.loss += loss.getFloat();
      termValues.forEach((k, v) -> stats.terms.merge(k, (double) v, Double::sum));
      for (LossTerm term : s.terms()) {
        term.afterBackward(ctx);
      }
    }
    for (String src : batch.rowSources()) {
      stats.rowsBySource.merge(src, 1, Integer::sum);
    }
    state.tokensSeen += batch.targetTokens();
  }

  private void checkFinite(String term, float value, Batch batch) {
    if (!Float.isFinite(value)) {
      String where = "step " + (state.step + 1) + " (epoch " + batch.epoch() + ", batch " + batch.index() + ")";
      if (cfg.nonFinite == RunConfig.NonFinite.SKIP) {
        throw new SkipBatch(term + " is " + value + " at " + where);
      }
      String last;
      try {
        last = checkpoints.latest().map(Path::toString).orElse("none yet");
      } catch (IOException e) {
        last = "unknown (" + e.getMessage() + ")";
      }
      throw new NonFiniteException("the " + term + " loss is " + value + " at " + where + "; last good checkpoint: " + last
          + ". Lower the learning rate, check the data, or set training.non_finite: skip");
    }
  }

  /** Internal signal to skip a batch with a non-finite value. */
  private static final class SkipBatch extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SkipBatch(String message) {
      super(message, null, false, false);
    }
  }

  /** Global gradient norm, clipped in place; NaN when non-finite and skipping (the step is dropped). */
  private double clipAndCheck() {
    List<NDArray> grads = GradClip.gradients(trainable.values());
    double norm = GradClip.globalNorm(grads);
    if (!Double.isFinite(norm)) {
      if (cfg.nonFinite == RunConfig.NonFinite.SKIP) {
        state.skippedBatches++;
        return Double.NaN;
      }
      throw new NonFiniteException("the gradient norm is " + norm + " at step " + (state.step + 1)
          + "; lower the learning rate or set training.non_finite: skip");
    }
    GradClip.clip(grads, norm, cfg.gradClip);
    return norm;
  }

  private void zeroGrads() {
    for (Parameter p : trainable.values()) {
      Grads.zero(p.data());
    }
  }

  private final Map<String, AdamW.Group> groups = new LinkedHashMap<>();

  /** Weight decay and LR scale of a parameter: the first matching param_groups entry; no decay on norms and biases. */
  private AdamW.Group group(String name, Parameter p) {
    return groups.computeIfAbsent(name, n -> {
      boolean noDecay = !AdamW.decays(n, p);
      for (RunConfig.ParamGroup g : cfg.paramGroups) {
        if (Pattern.compile(g.match).matcher(n).find()) {
          double wd = g.weightDecay != null ? g.weightDecay : (noDecay ? 0 : cfg.weightDecay);
          return new AdamW.Group(g.lrScale, wd);
        }
      }
      return new AdamW.Group(1.0, noDecay ? 0 : cfg.weightDecay);
    });
  }

  /** The next micro-batch, moving to the next epoch when one ends. */
  private Batch nextBatch() {
    while (true) {
      if (epochBatches == null || epochBatches.epoch() != state.epoch) {
        EpochPlan plan = mixture.plan(state.epoch);
        if (s.live() != null && s.live().budget() != null) {
          @SuppressWarnings("unchecked")
          Map<String, Object> boosts = (Map<String, Object>) state.extra.computeIfAbsent("epoch_replay_boost", k -> new LinkedHashMap<>());
          boosts.putIfAbsent(Integer.toString(state.epoch), s.live().budget().replayBoost());
        }
        epochBatches = s.packer().pack(plan);
        if (state.batchInEpoch == 0 && progress != null) {
          progress.println("epoch " + (state.epoch + 1) + "/" + s.epochs() + ": " + plan.summary());
          // Logged as part of the step it starts, so a resume before that step writes it again exactly once.
          ObjectNode rec = metrics.newRecord("epoch", state.step + 1);
          rec.put("epoch", state.epoch);
          rec.put("scheduled_general_share", plan.scheduledRatio());
          rec.put("general_share", plan.realisedGeneralShare());
          rec.put("batches", epochBatches.size());
          metrics.write(rec);
        }
      }
      if (state.batchInEpoch < epochBatches.size()) {
        return epochBatches.get(state.batchInEpoch++);
      }
      state.epoch++;
      state.batchInEpoch = 0;
      if (state.epoch >= s.epochs()) {
        throw new IllegalStateException("ran out of data at step " + state.step + " (bug: step count and data disagree)");
      }
    }
  }

  private void logStep(StepStats st, double lr, double tps, StageSpan stage) {
    ObjectNode rec = metrics.newRecord("train", state.step);
    rec.put("epoch", state.epoch);
    rec.put("stage", stage.name());
    rec.put("lr", lr);
    rec.put("loss", st.loss);
    rec.put("ce", st.ce);
    ObjectNode terms = rec.putObject("terms");
    st.terms.forEach(terms::put);
    rec.put("grad_norm", st.gradNorm);
    rec.put("tokens", state.tokensSeen);
    rec.put("tokens_per_s", tps);
    ObjectNode rows = rec.putObject("rows_by_source");
    st.rowsBySource.forEach(rows::put);
    if (state.skippedBatches > 0) {
      rec.put("skipped_batches", state.skippedBatches);
    }
    metrics.write(rec);
  }

  /** Mean validation cross-entropy per source (nats per target token). */
  public Map<String, Double> evaluate() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<Example>> e : s.validation().entrySet()) {
      out.put(e.getKey(), dev.retain.eval.HeldOutLoss.meanLoss(model, s.packer().pack(e.getKey(), e.getValue())));
    }
    if (!out.isEmpty()) {
      ObjectNode rec = metrics.newRecord("eval", state.step);
      ObjectNode v = rec.putObject("val_loss");
      out.forEach(v::put);
      metrics.write(rec);
      StringBuilder sb = new StringBuilder("eval step " + state.step + ":");
      out.forEach((k, val) -> sb.append(String.format(" %s %.4f", k, val)));
      progress.println(sb.toString());
    }
    return out;
  }

  /** One "probe" record of metrics.jsonl: the live scores at this step. */
  private void writeProbe(LiveEval.Scores sc) throws IOException {
    ObjectNode rec = metrics.newRecord("probe", state.step);
    rec.put("general", sc.general());
    rec.put("domain", sc.domain());
    rec.put("general_retention", sc.general() / s.live().baseGeneral());
    ObjectNode suites = rec.putObject("suites");
    sc.suites().forEach(suites::put);
    metrics.write(rec);
  }

  /**
   * Measures the live probes, logs them, and lets the retention budget act: raise the replay ratio
   * of the coming epochs and the distillation weight, or return to the best checkpoint that met the
   * budget (its weights and optimizer moments; the data position and step count go on).
   */
  private void liveEval() throws IOException {
    LiveEval.Scores sc = s.live().measure();
    writeProbe(sc);
    RetentionBudget budget = s.live().budget();
    if (budget == null) {
      progress.println(String.format("probes step %d: general %.3f, domain %.3f", state.step, sc.general(), sc.domain()));
      return;
    }
    RetentionBudget.Decision d = budget.observe(state.step, sc.general(), s.live().baseGeneral());
    ObjectNode b = metrics.newRecord("budget", state.step);
    b.put("action", d.action().name().toLowerCase(java.util.Locale.ROOT));
    b.put("general_retention", d.ratio());
    b.put("level", d.level());
    b.put("replay_boost", d.replayBoost());
    b.put("kd_scale", d.kdScale());
    b.put("reason", d.reason());
    metrics.write(b);
    progress.println("budget step " + state.step + ": " + d.reason());
    switch (d.action()) {
      case CONTINUE -> {
        if (budget.bestStep() == state.step) {
          state.extra.put("budget", budget.state());
          bestCheckpoints().save(state, trained(), optimizer, termState());
        }
      }
      case ESCALATE -> applyProtections(budget);
      case ROLLBACK -> {
        Path best = bestCheckpoints().latest().orElseThrow(() -> new IllegalStateException("no best checkpoint"));
        restoreWeights(Checkpoints.load(best), best, false);
        applyProtections(budget);
      }
      default -> throw new IllegalStateException();
    }
    state.extra.put("budget", budget.state());
  }

  private Checkpoints bestCheckpoints() {
    return new Checkpoints(s.output().resolve("checkpoints-best"), 1);
  }

  /**
   * Raises the distillation weight and, from the next epoch on, the replay ratio, as the budget's
   * level says. Each epoch keeps the boost it started with (recorded for resume).
   */
  @SuppressWarnings("unchecked")
  private void applyProtections(RetentionBudget budget) {
    termScale.put("kd", budget.kdScale());
    if (mixture.parts().size() < 2) {
      return; // no general source to replay from
    }
    Map<String, Object> boosts = (Map<String, Object>) state.extra.computeIfAbsent("epoch_replay_boost", k -> new LinkedHashMap<>());
    List<Double> ratios = new ArrayList<>();
    for (int e = 0; e < s.epochs(); e++) {
      Object recorded = boosts.get(Integer.toString(e));
      double boost = e <= state.epoch && recorded != null ? ((Number) recorded).doubleValue()
          : e <= state.epoch ? 0.0 : budget.replayBoost();
      double base = s.mixture().schedule().ratio(e, s.epochs());
      ratios.add(Math.min(base + boost, Math.max(base, 0.9)));
    }
    mixture = new Mixture(s.mixture().domain(), s.mixture().parts().subList(1, s.mixture().parts().size()),
        dev.retain.data.ReplaySchedule.perEpoch(ratios), s.epochs(), s.mixture().seed(), s.mixture().replacement());
    planSteps();
  }

  private Map<String, float[]> termState() {
    Map<String, float[]> extra = new LinkedHashMap<>();
    for (LossTerm t : s.terms()) {
      t.state().forEach((k, v) -> extra.put(t.name() + "." + k, v));
    }
    return extra;
  }

  private void checkpoint() throws IOException {
    checkpoints.save(state, trained(), optimizer, termState());
  }

  /** Parameters trained in this or an earlier stage: a stage-2 checkpoint must keep stage 1's training. */
  private Map<String, Parameter> trained() {
    Map<String, Parameter> out = new LinkedHashMap<>();
    Map<String, Parameter> all = model.allParameters();
    for (String n : state.trainedNames) {
      out.put(n, all.get(n));
    }
    return out;
  }

  public Checkpoints checkpoints() {
    return checkpoints;
  }

  /** Names of the parameters trained in the current stage. */
  public Set<String> trainableNames() {
    return new LinkedHashSet<>(trainable.keySet());
  }

  public AdamW optimizer() {
    return optimizer;
  }
}
