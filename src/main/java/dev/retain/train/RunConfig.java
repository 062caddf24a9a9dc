package dev.retain.train;

import dev.retain.config.ConfigErrors;
import dev.retain.config.Doc;
import dev.retain.config.Example;
import dev.retain.config.MustExist;
import dev.retain.config.Range;
import dev.retain.config.Validatable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run's configuration, read from run.yaml (keys in snake_case; docs/config.md lists every key
 * with its default, generated from this class). Plain values, nanoGPT-style: what you read here is
 * what the trainer does.
 */
public class RunConfig implements Validatable {
  @Doc("base model folder in Hugging Face layout (config.json, *.safetensors, tokenizer.json); for `retain pretrain` leave it out and fill `architecture`")
  @MustExist
  public Path model;

  @Doc("tokenizer.json to use; default: the one in `model` (pretrain: required)")
  @MustExist
  public Path tokenizer;

  @Doc("output folder: final model or adapter, checkpoints/, metrics.jsonl, run.yaml as resolved")
  @Example("runs/cardio-naive")
  public Path output = Path.of("runs/run");

  @Doc("seed for data order, initialisation and dropout")
  public long seed = 1234;

  @Doc("architecture of a new model for `retain pretrain` (ignored by `retain train`)")
  public Architecture architecture;

  @Doc("training data")
  public Data data = new Data();

  @Doc("the optimisation")
  public Training training = new Training();

  @Doc("LoRA adapters (leave out for full fine-tuning); base weights stay frozen")
  public Lora lora;

  @Doc("bottleneck adapters after each MLP (Houlsby style); base weights stay frozen")
  public Adapters adapters;

  @Doc("what keeps old knowledge: EWC, SI, L2-SP, distillation")
  public Retention retention = new Retention();

  @Doc("probes measured before, during (live retention) and after training")
  public Eval eval = new Eval();

  /** LoRA as PEFT configures it. */
  public static class Lora {
    @Doc("rank") @Range(min = 1) public int r = 8;
    @Doc("lora_alpha; scaling = alpha / r (rsLoRA: alpha / sqrt(r))") @Range(min = 0, minExclusive = true) public double alpha = 32;
    @Doc("dropout on the adapter input while training") @Range(min = 0, max = 1, maxExclusive = true) public double dropout = 0.0;
    @Doc("module names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj), [all-linear], or [\"regex:...\"]")
    public List<String> targetModules = new ArrayList<>(List.of("q_proj", "v_proj"));
    @Doc("rsLoRA scaling alpha / sqrt(r)") public boolean useRslora = false;
    @Doc("decoder layers to adapt (default: all)") public List<Integer> layers;
  }

  /** Bottleneck adapters. */
  public static class Adapters {
    @Doc("hidden size / bottleneck size") @Range(min = 1) public int reductionFactor = 16;
    @Doc("silu, relu or gelu") public String activation = "silu";
    @Doc("decoder layers to adapt (default: all)") public List<Integer> layers;
  }

  /** The retention terms; each is off while its section is left out. */
  public static class Retention {
    @Doc("elastic weight consolidation: (lambda/2) sum F (theta - theta*)^2, F = Fisher of the base model on general data")
    public Ewc ewc;
    @Doc("Synaptic Intelligence: c sum Omega (theta - theta*)^2 with Omega from the path integral")
    public Si si;
    @Doc("L2-SP: (alpha/2) sum (theta - theta*)^2") public L2sp l2sp;
    @Doc("distillation from the base model: T^2 KL(teacher || student), mixed with CE by weight")
    public Distill distillation;
  }

  public static class Ewc {
    @Doc("penalty strength") @Range(min = 0) public double lambda = 1000;
    @Doc("Fisher file to reuse (from retain importance or an earlier run); default: estimate at start") @MustExist
    public Path fisher;
    @Doc("general examples for the Fisher estimate") @Range(min = 1) public int samples = 128;
    @Doc("source to estimate the Fisher on (default: the first general source)") public String source;
    @Doc("online EWC decay: F <- gamma F + F_new when a Fisher file is given and re-estimated (null = plain EWC)")
    @Range(min = 0, max = 1) public Double gamma;
  }

  public static class Si {
    @Doc("penalty strength c") @Range(min = 0) public double c = 1.0;
    @Doc("damping xi in Omega = omega / (Delta^2 + xi)") @Range(min = 0, minExclusive = true) public double xi = 1e-3;
    @Doc("importance (Omega) of an earlier run to protect; the path integral of this run is saved next to its outputs")
    @MustExist public Path importance;
  }

  public static class L2sp {
    @Doc("penalty strength alpha") @Range(min = 0) public double alpha = 0.01;
  }

  /** The precisions a linear layer can run in: float32, or bfloat16 on copies of its weights. */
  public static final List<String> PRECISIONS = List.of("float32", "bfloat16");

  /** Whether {@code value} is one of {@code allowed} (false for null, which List.contains would throw on). */
  static boolean oneOf(String value, List<String> allowed) {
    return value != null && allowed.contains(value);
  }

  public static class Distill {
    @Doc("weight of the distillation term next to CE") @Range(min = 0) public double weight = 0.5;
    @Doc("softmax temperature T") @Range(min = 0, minExclusive = true) public double temperature = 2.0;
    @Doc("which rows: all, general (replay rows) or domain") public String on = "all";
    @Doc("the teacher's linear layers: float32 (exact), or bfloat16 (on copies of their weights: with adapters they "
        + "add half the base linears' float32 size, with full fine-tuning they replace the frozen teacher's float32 "
        + "linears and halve them; on CPUs with AVX512-BF16 the teacher's pass takes 27-42% less time and its logits "
        + "move by about 0.5% of the largest). With training.base_precision: bfloat16 the teacher shares the base's "
        + "copies, whatever this says")
    public String teacherPrecision = "float32";
  }

  /** Probes and the live retention measurement. */
  public static class Eval {
    @Doc("probe folder with suites.json (see docs/probes.md)") @MustExist public Path probes;
    @Doc("run the probes every N steps during training (0 = before and after only)") @Range(min = 0) public int every = 0;
    @Doc("items per suite during live evaluation (0 = all)") @Range(min = 0) public int liveLimit = 64;
    @Doc("items per suite before and after training (0 = all)") @Range(min = 0) public int limit = 0;
    @Doc("longest greedy answer for exact-match probes") @Range(min = 1) public int maxNewTokens = 24;
    @Doc("retention budget: keep the general score at or above this share of the base score (null = off)")
    @Range(min = 0, max = 1, minExclusive = true) public Double budget;
  }

  /** A new model's shape (Llama family), for pretraining from scratch. */
  public static class Architecture {
    @Doc("llama, mistral or qwen2") public String modelType = "llama";
    @Doc("vocabulary size; default: the tokenizer's") @Range(min = 1) public Integer vocabSize;
    @Range(min = 1) public int hiddenSize = 256;
    @Range(min = 1) public int intermediateSize = 688;
    @Range(min = 1) public int numHiddenLayers = 6;
    @Range(min = 1) public int numAttentionHeads = 8;
    @Doc("default: num_attention_heads (no grouped-query attention)") @Range(min = 1) public Integer numKeyValueHeads;
    @Range(min = 1) public int maxPositionEmbeddings = 512;
    @Range(min = 0, minExclusive = true) public double ropeTheta = 10000.0;
    @Range(min = 0, minExclusive = true) public double rmsNormEps = 1e-5;
    public boolean tieWordEmbeddings = false;
    @Doc("standard deviation of the normal initialisation of linear and embedding weights") @Range(min = 0, minExclusive = true)
    public double initializerRange = 0.02;
    @Doc("id of the beginning-of-sequence token in the tokenizer") @Range(min = 0) public int bosTokenId = 1;
    @Doc("id of the end-of-sequence token in the tokenizer") @Range(min = 0) public int eosTokenId = 2;
  }

  /** Sources and how they are mixed. */
  public static class Data implements Validatable {
    @Doc("tokens per packed row") @Range(min = 2) public int seqLen = 128;
    @Doc("named sources; each has a role: domain (what the run learns) or general (what it must keep)")
    public Map<String, Source> sources = new LinkedHashMap<>();
    @Doc("share of general examples per epoch (replay)") public Replay replay = new Replay();
    @Doc("skip malformed JSONL lines (counted and reported) instead of stopping") public boolean skipBadLines = false;
    @Doc("folder for tokenised-data caches; default: <output>/../.retain-cache") public Path cacheDir;

    @Override
    public void validate(ConfigErrors errors) {
      if (sources.isEmpty()) {
        errors.add("data.sources", "at least one source is needed, e.g. data.sources.domain.train: data/domain/train.jsonl");
      }
      boolean domain = sources.values().stream().anyMatch(s -> s.role == Role.DOMAIN);
      if (!sources.isEmpty() && !domain) {
        errors.add("data.sources", "no source has role: domain; mark the data the run should learn with role: domain");
      }
    }
  }

  public enum Role { DOMAIN, GENERAL }

  /** One named JSONL source. */
  public static class Source {
    @Doc("JSONL training file: {\"text\"}, {\"prompt\",\"completion\"} or {\"messages\"} per line") @MustExist
    public Path train;
    @Doc("JSONL validation file (held-out loss is reported per source)") @MustExist public Path validation;
    @Doc("domain or general") public Role role = Role.DOMAIN;
    @Doc("relative sampling weight among the general sources") @Range(min = 0, minExclusive = true) public double weight = 1.0;
  }

  public enum ReplayKind { NONE, CONSTANT, LINEAR, LIST }

  /** Replay-ratio schedule r(epoch) of general examples. */
  public static class Replay implements Validatable {
    @Doc("none (domain only), constant, linear (start -> end across epochs) or list") public ReplayKind schedule = ReplayKind.NONE;
    @Doc("the constant ratio") @Range(min = 0, max = 1, maxExclusive = true) public double ratio = 0.15;
    @Doc("linear: ratio of the first epoch") @Range(min = 0, max = 1, maxExclusive = true) public double start = 0.15;
    @Doc("linear: ratio of the last epoch") @Range(min = 0, max = 1, maxExclusive = true) public double end = 0.30;
    @Doc("list: one ratio per epoch (the last repeats)") @Range(min = 0, max = 1, maxExclusive = true) public List<Double> ratios = new ArrayList<>();
    @Doc("draw general examples with replacement") public boolean replacement = true;

    @Override
    public void validate(ConfigErrors errors) {
      if (schedule == ReplayKind.LIST && ratios.isEmpty()) {
        errors.add("data.replay.ratios", "schedule: list needs ratios, e.g. [0.15, 0.2, 0.3]");
      }
    }
  }

  public enum ScheduleKind { CONSTANT, COSINE, LINEAR }

  public enum NonFinite { STOP, SKIP }

  /** Optimiser, schedule, stages, logging and checkpoints. */
  public static class Training implements Validatable {
    @Doc("passes over the domain data (stages given in epochs override this)") @Range(min = 1) public int epochs = 1;
    @Doc("stop after this many optimizer steps (default: run all epochs)") @Range(min = 1) public Integer maxSteps;
    @Doc("rows per micro-batch") @Range(min = 1) public int batchSize = 8;
    @Doc("micro-batches per optimizer step") @Range(min = 1) public int gradAccum = 1;
    @Doc("peak learning rate (stages may set their own)") @Range(min = 0, minExclusive = true) public double lr = 3e-4;
    @Doc("constant, cosine or linear decay after warmup, per stage") public ScheduleKind schedule = ScheduleKind.COSINE;
    @Doc("linear warmup steps at the start of each stage") @Range(min = 0) public int warmupSteps = 0;
    @Doc("final learning rate as a fraction of the peak") @Range(min = 0, max = 1) public double minLrRatio = 0.1;
    @Doc("AdamW decoupled weight decay (not applied to norms and biases)") @Range(min = 0) public double weightDecay = 0.01;
    @Range(min = 0, max = 1, maxExclusive = true) public double beta1 = 0.9;
    @Range(min = 0, max = 1, maxExclusive = true) public double beta2 = 0.999;
    @Range(min = 0, minExclusive = true) public double eps = 1e-8;
    @Doc("clip the global gradient norm to this (0 = off)") @Range(min = 0) public double gradClip = 1.0;
    @Doc("what trains when no stages are given: all, top:N+head, adapters, regex:... (joined by +); default: adapters when lora or adapters are on, else all")
    public String trainable;
    @Doc("ordered stages, e.g. top layers + head first, then everything at a low LR")
    public List<Stage> stages = new ArrayList<>();

    /** What a run or a stage trains: the selector given, else adapters when the run has some, else all. */
    public static String selector(String given, boolean adapters) {
      return given != null ? given : adapters ? "adapters" : "all";
    }
    @Doc("parameter groups: the first whose regex matches a name sets its LR scale and weight decay")
    public List<ParamGroup> paramGroups = new ArrayList<>();
    @Doc("on a NaN/infinite loss or gradient: stop (naming step, term and last checkpoint) or skip the batch") public NonFinite nonFinite = NonFinite.STOP;
    @Doc("log a metrics line every N steps") @Range(min = 1) public int logEvery = 10;
    @Doc("validation loss per source every N steps (0 = only at the end)") @Range(min = 0) public int evalEvery = 0;
    @Doc("checkpoint every N steps (0 = only at the end)") @Range(min = 0) public int checkpointEvery = 0;
    @Doc("checkpoints kept") @Range(min = 1) public int keepCheckpoints = 2;
    @Doc("dtype of the saved model: f32, bf16 or f16") public String saveDtype = "f32";
    @Doc("the frozen base's linear layers while adapters train: float32 (exact), or bfloat16 (on copies of their "
        + "weights, half the base linears' float32 size on top; the gradient reaches the adapters through them in "
        + "bfloat16; adapters, norms, attention, the loss and AdamW stay float32, and so do evaluation, the probes and "
        + "what is saved; a distillation teacher shares the copies). Needs lora or adapters and a frozen base; on CPUs "
        + "with AVX512-BF16 a LoRA q,v step on the base model takes about 20% less time")
    public String basePrecision = "float32";

    @Override
    public void validate(ConfigErrors errors) {
      if (!oneOf(basePrecision, PRECISIONS)) {
        errors.add("training.base_precision", "must be float32 or bfloat16, got '" + basePrecision + "'");
      }
      if (trainable != null) {
        try {
          ParamSelector.parse(trainable);
        } catch (IllegalArgumentException e) {
          errors.add("training.trainable", e.getMessage());
        }
      }
      for (int i = 0; i < stages.size(); i++) {
        Stage s = stages.get(i);
        if ((s.epochs == null) == (s.steps == null)) {
          errors.add("training.stages[" + i + "]", "give exactly one of epochs or steps");
        }
        if (s.trainable != null) {
          try {
            ParamSelector.parse(s.trainable);
          } catch (IllegalArgumentException e) {
            errors.add("training.stages[" + i + "].trainable", e.getMessage());
          }
        }
        if (i > 0 && (s.epochs == null) != (stages.get(0).epochs == null)) {
          errors.add("training.stages[" + i + "]", "give every stage's length the same way (all in epochs or all in steps)");
        }
      }
      if (!oneOf(saveDtype, List.of("f32", "bf16", "f16"))) {
        errors.add("training.save_dtype", "must be f32, bf16 or f16, got '" + saveDtype + "'");
      }
      for (int i = 0; i < paramGroups.size(); i++) {
        try {
          java.util.regex.Pattern.compile(paramGroups.get(i).match);
        } catch (RuntimeException e) {
          errors.add("training.param_groups[" + i + "].match", "not a valid regex: " + e.getMessage());
        }
      }
    }
  }

  /** One stage of staged unfreezing. */
  public static class Stage {
    @Doc("a name for logs") public String name;
    @Doc("what trains in this stage (selector expression); default: adapters when lora or adapters are on, else all")
    public String trainable;
    @Doc("peak learning rate of this stage (default: training.lr)") @Range(min = 0, minExclusive = true) public Double lr;
    @Doc("length in epochs") @Range(min = 1) public Integer epochs;
    @Doc("length in optimizer steps") @Range(min = 1) public Integer steps;
  }

  /** LR scale and weight decay for parameters whose name matches a regex. */
  public static class ParamGroup {
    @Doc("Java regex found in the parameter name") public String match = ".*";
    @Doc("multiplies the stage's learning rate") @Range(min = 0) public double lrScale = 1.0;
    @Doc("weight decay of this group (default: training.weight_decay; norms and biases: 0)") @Range(min = 0) public Double weightDecay;
  }

  @Override
  public void validate(ConfigErrors errors) {
    if (lora != null && adapters != null) {
      errors.add("adapters", "use either lora or adapters in one run, not both");
    }
    if (retention.distillation != null && !oneOf(retention.distillation.on, List.of("all", "general", "domain"))) {
      errors.add("retention.distillation.on", "must be all, general or domain, got '" + retention.distillation.on + "'");
    }
    if (retention.distillation != null && !oneOf(retention.distillation.teacherPrecision, PRECISIONS)) {
      errors.add("retention.distillation.teacher_precision", "must be float32 or bfloat16, got '"
          + retention.distillation.teacherPrecision + "'");
    }
    if ("bfloat16".equals(training.basePrecision) && lora == null && adapters == null) {
      errors.add("training.base_precision", "bfloat16 runs a frozen base under adapters; set lora or adapters, or use "
          + "float32 for full fine-tuning (its weights train, and a bfloat16 copy gets no gradient)");
    }
    if (eval.budget != null && eval.probes == null) {
      errors.add("eval.budget", "the retention budget needs eval.probes to measure the general score");
    }
    if (eval.budget != null && eval.every == 0) {
      errors.add("eval.every", "the retention budget needs live evaluation: set eval.every to a number of steps");
    }
  }
}
