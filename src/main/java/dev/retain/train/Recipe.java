package dev.retain.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.config.ConfigBinder;
import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.ExampleLoader;
import dev.retain.data.LoadedSource;
import dev.retain.data.Mixture;
import dev.retain.data.Packer;
import dev.retain.data.ReplaySchedule;
import dev.retain.data.Source;
import dev.retain.model.Bfloat16Copies;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.ModelSaver;
import dev.retain.model.Tokenizer;
import dev.retain.model.safetensors.DType;
import dev.retain.eval.EvalReport;
import dev.retain.eval.ProbeRunner;
import dev.retain.eval.RetentionBudget;
import dev.retain.eval.Probes;
import dev.retain.peft.Adapter;
import dev.retain.peft.bottleneck.Bottleneck;
import dev.retain.peft.bottleneck.BottleneckConfig;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraConfig;
import dev.retain.peft.lora.TargetModules;
import dev.retain.retention.Distillation;
import dev.retain.retention.Ewc;
import dev.retain.retention.Importance;
import dev.retain.retention.L2SP;
import dev.retain.retention.SynapticIntelligence;
import dev.retain.tensor.Bfloat16;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The fine-tuning and pretraining recipes, torchtune-style: read top to bottom, they turn a
 * {@link RunConfig} into a model, data, a {@link Trainer}, and the outputs in {@code output/}:
 * {@code model/} (Hugging Face layout), {@code checkpoints/}, {@code metrics.jsonl} and
 * {@code run.yaml} (the configuration as resolved).
 */
public final class Recipe {
  public enum Mode { TRAIN, PRETRAIN }

  /** How to treat an output folder that already holds a run. */
  public enum Existing { REFUSE, OVERWRITE, RESUME }

  private Recipe() {}

  public static Trainer.Result run(RunConfig cfg, Mode mode, Existing existing, PrintStream out) throws IOException {
    Path output = cfg.output;
    prepareOutput(output, existing);

    // Model and tokenizer.
    Path tokFile = cfg.tokenizer != null ? cfg.tokenizer : cfg.model;
    if (tokFile == null) {
      throw new IllegalArgumentException("pretrain needs 'tokenizer' (a tokenizer.json) in the run config");
    }
    try (Tokenizer tok = Tokenizer.load(tokFile); CausalLM model = buildModel(cfg, mode, tok)) {
      tok.checkFits(model.config, cfg.model != null ? cfg.model : output);
      if (mode == Mode.PRETRAIN && (cfg.retention.ewc != null || cfg.retention.si != null || cfg.retention.l2sp != null
          || cfg.retention.distillation != null || cfg.lora != null || cfg.adapters != null)) {
        throw new IllegalArgumentException("retention terms, lora and adapters protect what a trained model knows; a model "
            + "pretrained from random weights has nothing to protect: remove them from the pretrain config");
      }
      int bos = model.config.bosTokenId;
      int eos = model.config.eosTokenIds.isEmpty() ? -1 : model.config.eosTokenIds.get(0);
      if (eos < 0) {
        throw new IllegalArgumentException((cfg.model != null ? cfg.model + "/config.json" : "architecture")
            + ": eos_token_id is not set; retain ends every training document with it");
      }

      // Data: sources, mixture with the replay schedule, packing.
      Path cache = cfg.data.cacheDir != null ? cfg.data.cacheDir
          : output.toAbsolutePath().getParent().resolve(".retain-cache");
      ExampleLoader loader = new ExampleLoader(new Encoder(tok, bos, eos, cfg.data.seqLen), cache, cfg.data.skipBadLines);
      Mixture.Part domain = null;
      List<Mixture.Part> general = new ArrayList<>();
      Map<String, List<Example>> validation = new LinkedHashMap<>();
      for (Map.Entry<String, RunConfig.Source> e : cfg.data.sources.entrySet()) {
        RunConfig.Source src = e.getValue();
        LoadedSource ls = new Source(e.getKey(), src.train, src.validation).load(loader);
        out.println("data " + e.getKey() + " (" + src.role.name().toLowerCase() + "): " + ls.train().summary());
        if (ls.hasValidation()) {
          validation.put(e.getKey(), ls.validationExamples());
        }
        if (src.role == RunConfig.Role.DOMAIN) {
          if (domain != null) {
            throw new IllegalArgumentException("data.sources." + e.getKey() + ": only one source may have role: domain ("
                + domain.name() + " already has it); merge the files or mark one as general");
          }
          domain = ls.part(src.weight);
        } else {
          general.add(ls.part(src.weight));
        }
      }
      int epochs = epochs(cfg.training);
      ReplaySchedule replay = replay(cfg.data.replay);
      if (cfg.data.replay.schedule != RunConfig.ReplayKind.NONE && general.isEmpty()) {
        throw new IllegalArgumentException("data.replay.schedule is " + cfg.data.replay.schedule.name().toLowerCase()
            + " but no source has role: general to replay from");
      }
      Mixture mixture = new Mixture(domain, general, replay, epochs, cfg.seed, cfg.data.replay.replacement);
      Packer packer = new Packer(cfg.data.seqLen, cfg.training.batchSize, eos);

      // bfloat16 copies of the base's linears need them frozen throughout: say so now, before the probes.
      boolean baseOnCopies = cfg.training.basePrecision.equals("bfloat16");
      boolean teacherOnCopies = !baseOnCopies && cfg.retention.distillation != null
          && cfg.retention.distillation.teacherPrecision.equals("bfloat16");
      String bfloat16Key = baseOnCopies ? "training.base_precision"
          : teacherOnCopies ? "retention.distillation.teacher_precision" : null;
      if (bfloat16Key != null) {
        if (cfg.lora != null || cfg.adapters != null) { // a full fine-tuning teacher is a frozen model of its own
          requireFrozenLinears(bfloat16Key, cfg.training, model);
        }
        if (!Bfloat16.nativeOnThisCpu()) {
          out.println("warning: " + bfloat16Key + " is bfloat16, but " + Bfloat16.NOT_NATIVE);
        }
      }

      // Probes on the base model, before anything changes it.
      Encoder probeEncoder = new Encoder(tok, bos, eos, Math.max(cfg.data.seqLen, 256));
      List<Probes.Suite> suites = cfg.eval.probes == null ? List.of() : Probes.load(cfg.eval.probes);
      List<ProbeRunner.Result> before = List.of();
      List<ProbeRunner.Result> seeded = suites.isEmpty() ? null
          : readResults(output.resolve("eval-before.json"), suites, String.valueOf(cfg.model), cfg.eval.limit);
      if (seeded != null) {
        // Resumed, or seeded by retain compare: the base model's scores are already measured.
        before = seeded;
        out.println("probes before training: reusing " + output.resolve("eval-before.json"));
      } else if (!suites.isEmpty()) {
        out.println("probes before training (" + suites.size() + " suites)...");
        before = new ProbeRunner(model, probeEncoder, cfg.eval.maxNewTokens).run(suites, cfg.eval.limit);
        AtomicFiles.writeString(output.resolve("eval-before.json"),
            Json.PRETTY.writeValueAsString(new EvalReport(String.valueOf(cfg.model), before, null, null).json()) + "\n");
      }

      // The live general score is measured on eval.live_limit items: its base reference must be too.
      LiveEval.Scores liveBase = null;
      if (!suites.isEmpty() && cfg.eval.every > 0) {
        liveBase = new LiveProbes(new ProbeRunner(model, probeEncoder, cfg.eval.maxNewTokens), suites, cfg.eval.every,
            cfg.eval.liveLimit, null, null).measure();
        out.printf("live probes on the base model: general %.3f (on %s items per suite)%n", liveBase.general(),
            cfg.eval.liveLimit == 0 ? "all" : Integer.toString(cfg.eval.liveLimit));
      }

      // Architecture level: LoRA or bottleneck adapters; the base weights freeze.
      String baseName = cfg.model != null ? cfg.model.toString() : null;
      Adapter adapter = null;
      if (cfg.lora != null) {
        adapter = Lora.apply(model, loraConfig(cfg.lora), cfg.seed, baseName);
      } else if (cfg.adapters != null) {
        adapter = Bottleneck.apply(model, new BottleneckConfig(cfg.adapters.reductionFactor, 0,
            BottleneckConfig.Activation.parse(cfg.adapters.activation), orAll(cfg.adapters.layers)), cfg.seed, baseName);
      }
      Set<String> adapterNames = adapter == null ? Set.of() : adapter.parameterNames();

      // Training level: the retention terms.
      Set<String> generalNames = new LinkedHashSet<>();
      cfg.data.sources.forEach((k, v) -> {
        if (v.role == RunConfig.Role.GENERAL) {
          generalNames.add(k);
        }
      });
      List<LossTerm> terms = new ArrayList<>();
      List<AutoCloseable> closeAtEnd = new ArrayList<>();
      try {
        // The frozen base in bfloat16 (opt-in): the training step's passes multiply by copies of its
        // linear weights; evaluation, probes and what is saved stay float32.
        Bfloat16Copies baseCopies = null;
        if (baseOnCopies) {
          baseCopies = Bfloat16Copies.of(model);
          closeAtEnd.add(baseCopies);
        }
        RunConfig.Retention r = cfg.retention;
        if (r.ewc != null) {
          Importance fisher = fisher(cfg, model, general, output, out);
          Ewc ewc = new Ewc(model, fisher, r.ewc.lambda);
          terms.add(ewc);
          closeAtEnd.add(ewc);
        }
        if (r.si != null) {
          Importance previous = r.si.importance == null ? null : Importance.load(r.si.importance);
          SynapticIntelligence si = new SynapticIntelligence(model, r.si.c, r.si.xi, previous);
          terms.add(si);
          closeAtEnd.add(si);
        }
        if (r.l2sp != null) {
          L2SP l2 = new L2SP(model, r.l2sp.alpha);
          terms.add(l2);
          closeAtEnd.add(l2);
        }
        if (r.distillation != null) {
          Distillation.On on = Distillation.On.parse(r.distillation.on);
          CausalLM teacher = null;
          if (adapter == null) {
            // Full fine-tuning changes the base weights: the teacher is a frozen copy of the start.
            teacher = mode == Mode.TRAIN ? ModelLoader.load(cfg.model) : ModelLoader.random(model.config, cfg.seed,
                cfg.architecture.initializerRange);
            closeAtEnd.add(teacher);
          }
          Distillation kd = new Distillation(teacher, r.distillation.weight, r.distillation.temperature, on, generalNames);
          if (baseCopies != null) {
            // The teacher is the same frozen base with adapters off: it shares the student's copies.
            kd = kd.withBfloat16Teacher(baseCopies);
          } else if (teacherOnCopies) {
            // The frozen copy (full fine-tuning) keeps only its bfloat16 linears; with adapters the
            // base weights are the student's too, so the copies sit next to them.
            Bfloat16Copies copies = teacher != null ? Bfloat16Copies.replacing(teacher) : Bfloat16Copies.of(model);
            closeAtEnd.add(copies);
            kd = kd.withBfloat16Teacher(copies);
          }
          terms.add(kd);
        }

        // Live retention: probes every eval.every steps, and the retention budget acting on them.
        LiveEval live = null;
        if (!suites.isEmpty() && cfg.eval.every > 0) {
          double baseGeneral = liveBase.general();
          RetentionBudget budget = null;
          if (cfg.eval.budget != null) {
            if (Double.isNaN(baseGeneral) || baseGeneral <= 0) {
              throw new IllegalArgumentException("eval.budget: the base model scores " + baseGeneral + " on the general probes of "
                  + cfg.eval.probes + "; the budget needs a general exact or choice suite the base model gets partly right");
            }
            budget = RetentionBudget.of(cfg.eval.budget);
          }
          live = new LiveProbes(new ProbeRunner(model, probeEncoder, cfg.eval.maxNewTokens), suites, cfg.eval.every,
              cfg.eval.liveLimit, liveBase, budget);
        }

        Trainer trainer = new Trainer(new Trainer.Setup(model, mixture, packer, validation, cfg.training, cfg.seed,
            output, terms, adapter, epochs, live, baseCopies));
        if (existing == Existing.RESUME) {
          Path latest = trainer.checkpoints().latest().orElseThrow(() -> new IllegalArgumentException(
              output + ": --resume found no complete checkpoint under checkpoints/; start without --resume"));
          checkSameRun(output.resolve("run.yaml"), cfg);
          out.println("resuming from " + latest);
          trainer.resumeFrom(latest);
        }
        AtomicFiles.writeString(output.resolve("run.yaml"), ConfigBinder.toYaml(cfg));
        out.println(ParameterReport.of(model, adapterNames).describe());
        out.println("protections: " + protections(cfg, adapter, terms));
        out.printf("%s: %d steps over %d epoch(s), batch %d x %d tokens, grad_accum %d%n", mode.name().toLowerCase(),
            trainer.totalSteps(), epochs, cfg.training.batchSize, cfg.data.seqLen, cfg.training.gradAccum);

        Trainer.Result result = trainer.run();

        if (adapter != null) {
          Path adapterDir = output.resolve("adapter");
          adapter.save(adapterDir, baseName);
          out.println("adapter saved to " + adapterDir + " (" + adapter.type() + "; merge with retain export)");
          List<String> baseTrained = result.state().trainedNames.stream().filter(n -> !adapterNames.contains(n)).toList();
          if (!baseTrained.isEmpty()) {
            // Base weights trained next to the adapter (e.g. a stage with +norm): they belong to the model.
            Path modelDir = output.resolve("model");
            ModelSaver.save(model, modelDir, dtype(cfg.training.saveDtype), cfg.model);
            out.println(baseTrained.size() + " base weight(s) trained too (e.g. " + baseTrained.get(0) + "): the model is saved to "
                + modelDir + "; apply the adapter to it, not to the original base");
          }
        } else {
          Path modelDir = output.resolve("model");
          ModelSaver.save(model, modelDir, dtype(cfg.training.saveDtype), cfg.model);
          if (cfg.model == null) {
            Files.copy(tok.file(), modelDir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
          out.println("model saved to " + modelDir);
        }
        for (LossTerm t : terms) {
          if (t instanceof SynapticIntelligence si) {
            Path f = output.resolve("importance/si-omega.safetensors");
            Files.createDirectories(f.getParent());
            si.consolidated().save(f);
            out.println("SI importance of this run saved to " + f + " (protect it next time with retention.si.importance)");
          }
        }
        ParameterReport params = ParameterReport.of(model, adapterNames);
        com.fasterxml.jackson.databind.node.ObjectNode summary = Json.MAPPER.createObjectNode();
        summary.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
        summary.put("protections", protections(cfg, adapter, terms));
        summary.put("steps", result.state().step);
        summary.put("trainable_params", params.trainable());
        summary.put("total_params", params.total());
        summary.put("tokens", result.tokens());
        summary.put("wall_seconds", result.seconds());
        summary.put("tokens_per_second", result.tokens() / Math.max(1e-9, result.seconds()));
        summary.put("peak_rss_bytes", peakRssBytes());
        summary.put("optimizer_state_bytes", trainer.optimizer().stateBytes());
        AtomicFiles.writeString(output.resolve("summary.json"), Json.PRETTY.writeValueAsString(summary) + "\n");
        out.printf("done in %.1f s (%.0f tokens/s)%n", result.seconds(), result.tokens() / Math.max(1e-9, result.seconds()));
        result.validationLoss().forEach((k, v) -> out.printf("  validation loss %s: %.4f nats/token%n", k, v));
        if (!suites.isEmpty()) {
          List<ProbeRunner.Result> after = new ProbeRunner(model, probeEncoder, cfg.eval.maxNewTokens).run(suites, cfg.eval.limit);
          EvalReport report = new EvalReport(output.toString(), after, String.valueOf(cfg.model), before);
          AtomicFiles.writeString(output.resolve("eval.json"), Json.PRETTY.writeValueAsString(report.json()) + "\n");
          out.print(report.table());
        }
        return result;
      } finally {
        for (AutoCloseable c : closeAtEnd) {
          try {
            c.close();
          } catch (Exception e) {
            out.println("warning: " + e.getMessage());
          }
        }
      }
    }
  }

  private static CausalLM buildModel(RunConfig cfg, Mode mode, Tokenizer tok) throws IOException {
    if (mode == Mode.TRAIN) {
      if (cfg.model == null) {
        throw new IllegalArgumentException("'model' is required for retain train: the folder of the model to fine-tune");
      }
      return ModelLoader.load(cfg.model);
    }
    RunConfig.Architecture a = cfg.architecture;
    if (a == null) {
      throw new IllegalArgumentException("retain pretrain needs an 'architecture' section in the run config");
    }
    ObjectNode n = ModelConfig.llamaJson(a.vocabSize != null ? a.vocabSize : tok.vocabSize(), a.hiddenSize,
        a.intermediateSize, a.numHiddenLayers, a.numAttentionHeads,
        a.numKeyValueHeads != null ? a.numKeyValueHeads : a.numAttentionHeads);
    n.put("model_type", a.modelType);
    n.put("max_position_embeddings", a.maxPositionEmbeddings);
    n.put("rope_theta", a.ropeTheta);
    n.put("rms_norm_eps", a.rmsNormEps);
    n.put("tie_word_embeddings", a.tieWordEmbeddings);
    n.put("initializer_range", a.initializerRange);
    n.put("bos_token_id", a.bosTokenId);
    n.put("eos_token_id", a.eosTokenId);
    if (a.modelType.equals("qwen2")) {
      n.putArray("architectures").removeAll().add("Qwen2ForCausalLM");
      n.remove("attention_bias");
    } else if (a.modelType.equals("mistral")) {
      n.putArray("architectures").removeAll().add("MistralForCausalLM");
      n.putNull("sliding_window");
    }
    ModelConfig mc = ModelConfig.fromJson(n, "architecture");
    if (mc.maxPositionEmbeddings < cfg.data.seqLen) {
      throw new IllegalArgumentException("architecture.max_position_embeddings (" + mc.maxPositionEmbeddings
          + ") is below data.seq_len (" + cfg.data.seqLen + ")");
    }
    return ModelLoader.random(mc, cfg.seed, a.initializerRange);
  }

  /** A layer list from YAML: empty or absent means every layer (null for the PEFT configs). */
  static List<Integer> orAll(List<Integer> layers) {
    return layers == null || layers.isEmpty() ? null : layers;
  }

  static LoraConfig loraConfig(RunConfig.Lora l) {
    TargetModules targets;
    if (l.targetModules.size() == 1 && l.targetModules.get(0).equals(TargetModules.ALL_LINEAR)) {
      targets = TargetModules.allLinear();
    } else if (l.targetModules.size() == 1 && l.targetModules.get(0).startsWith("regex:")) {
      targets = TargetModules.regex(l.targetModules.get(0).substring(6));
    } else {
      targets = TargetModules.names(l.targetModules);
    }
    return new LoraConfig(l.r, l.alpha, l.dropout, l.useRslora, targets, orAll(l.layers));
  }

  /** The EWC Fisher: loaded from retention.ewc.fisher, or estimated on general examples and saved for reuse. */
  static Importance fisher(RunConfig cfg, CausalLM model, List<Mixture.Part> general, Path output, PrintStream out)
      throws IOException {
    RunConfig.Ewc e = cfg.retention.ewc;
    Importance loaded = e.fisher == null ? null : Importance.load(e.fisher);
    if (loaded != null && e.gamma == null) {
      out.println("EWC: Fisher from " + e.fisher + " (" + loaded.samples() + " samples)");
      return loaded;
    }
    Mixture.Part src = general.stream().filter(p -> e.source == null || p.name().equals(e.source)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(e.source == null
            ? "retention.ewc needs a general source to estimate the Fisher on (or retention.ewc.fisher: a file)"
            : "retention.ewc.source: no general source named '" + e.source + "'"));
    List<Example> ex = src.examples().subList(0, Math.min(e.samples, src.examples().size()));
    out.println("EWC: estimating the Fisher of the base model on " + ex.size() + " " + src.name() + " sequences...");
    Importance fresh = Importance.fisher(model, ex, new Importance.FisherOptions()
        .model(String.valueOf(cfg.model)).adaptersOn(false));
    Importance f = loaded != null ? loaded.online(fresh, e.gamma) : fresh;
    Path file = output.resolve("importance/fisher.safetensors");
    Files.createDirectories(file.getParent());
    f.save(file);
    out.println("EWC: Fisher saved to " + file + " (reuse it with retention.ewc.fisher)");
    return f;
  }

  /**
   * bfloat16 copies of the base's linear weights are taken once, and get no gradient: refuse a run
   * whose trainable selection (or one of its stages') includes one of those weights. Norms may train,
   * and so may an untied embedding: they are not copied, and a teacher with adapters off reads them as
   * they are now in either precision. A tied embedding is the head's weight, so it counts. Needs no
   * adapter: their parameters are never linear weights, so the check runs before they are applied.
   *
   * @param key the option that asked for the copies, for the message
   */
  static void requireFrozenLinears(String key, RunConfig.Training t, CausalLM model) {
    Set<String> linearWeights = new HashSet<>();
    model.linearsWithHead().forEach(l -> linearWeights.add(l.weight.name()));
    List<String> selections = t.stages.isEmpty() ? List.of(RunConfig.Training.selector(t.trainable, true))
        : t.stages.stream().map(s -> RunConfig.Training.selector(s.trainable, true)).toList();
    for (String what : selections) {
      Set<String> chosen = ParamSelector.parse(what).select(model.allParameters().keySet(), Set.of(),
          model.config.numLayers, model.config.tieWordEmbeddings);
      for (String name : chosen) {
        if (linearWeights.contains(name)) {
          throw new IllegalArgumentException(key + ": bfloat16 runs the base's linear layers on copies of their "
              + "weights taken once, which get no gradient, but '" + what + "' trains " + name + "; train adapters "
              + "(and norms) only, or set " + key.substring(key.lastIndexOf('.') + 1) + ": float32");
        }
      }
    }
  }

  static String protections(RunConfig cfg, Adapter adapter, List<LossTerm> terms) {
    List<String> p = new ArrayList<>();
    if (cfg.data.replay.schedule != RunConfig.ReplayKind.NONE) {
      p.add("replay " + replay(cfg.data.replay));
    }
    if (!cfg.training.stages.isEmpty()) {
      p.add(cfg.training.stages.size() + " stages");
    }
    if (adapter != null) {
      p.add(adapter.type() + " (" + adapter.numParameters() + " parameters)");
    }
    for (LossTerm t : terms) {
      p.add(t.describe());
    }
    return p.isEmpty() ? "none (naive fine-tuning)" : String.join("; ", p);
  }

  /** Base-model probe results saved by the run that is being resumed. */
  static List<ProbeRunner.Result> readResults(Path file, List<Probes.Suite> suites, String model, int limit) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    com.fasterxml.jackson.databind.JsonNode root = Json.MAPPER.readTree(file.toFile());
    if (!model.equals(root.path("model").asText())) {
      return null; // measured on another model
    }
    List<ProbeRunner.Result> out = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode n : root.path("suites")) {
      com.fasterxml.jackson.databind.JsonNode a = n.path("after");
      Probes.Kind kind = Probes.Kind.valueOf(n.path("kind").asText().toUpperCase(java.util.Locale.ROOT));
      double score = kind == Probes.Kind.TEXT ? a.path("cross_entropy").asDouble() : a.path("accuracy").asDouble();
      out.add(new ProbeRunner.Result(n.path("name").asText(), kind, n.path("role").asText(), n.path("n").asInt(),
          a.path("correct").asInt(), score, a.path("ci_low").asDouble(Double.NaN), a.path("ci_high").asDouble(Double.NaN),
          a.path("seconds").asDouble()));
    }
    if (out.size() != suites.size()) {
      return null;
    }
    for (int i = 0; i < out.size(); i++) {
      int n = limit > 0 ? Math.min(limit, suites.get(i).items().size()) : suites.get(i).items().size();
      if (!out.get(i).name().equals(suites.get(i).name()) || out.get(i).n() != n) {
        return null; // other suites or another eval.limit
      }
    }
    return out;
  }

  /** Keys that may change between a run and its resume: they do not change what the run computes. */
  private static final Set<String> RESUMABLE = Set.of("output", "training.max_steps", "training.log_every",
      "training.eval_every", "training.checkpoint_every", "training.keep_checkpoints", "eval", "data.cache_dir");

  /** Refuses to resume a run with a config that changes what it computes (data, model, optimisation). */
  static void checkSameRun(Path saved, RunConfig cfg) throws IOException {
    if (!Files.exists(saved)) {
      return;
    }
    // Read the saved file as today's code reads a config, so that a key added since it was written
    // (a new option with its default) does not count as a change; keep the raw text if it no longer binds.
    String savedText;
    try {
      savedText = ConfigBinder.toYaml(ConfigBinder.load(saved, RunConfig.class));
    } catch (dev.retain.config.ConfigException e) {
      savedText = Files.readString(saved);
    }
    Map<String, Object> before = flatten(new org.yaml.snakeyaml.Yaml().load(savedText), "");
    Map<String, Object> now = flatten(new org.yaml.snakeyaml.Yaml().load(ConfigBinder.toYaml(cfg)), "");
    List<String> changed = new ArrayList<>();
    Set<String> keys = new java.util.TreeSet<>(before.keySet());
    keys.addAll(now.keySet());
    for (String k : keys) {
      boolean free = RESUMABLE.stream().anyMatch(r -> k.equals(r) || k.startsWith(r + "."));
      if (!free && !java.util.Objects.equals(before.get(k), now.get(k))) {
        changed.add(k + ": " + before.get(k) + " -> " + now.get(k));
      }
    }
    if (!changed.isEmpty()) {
      throw new IllegalArgumentException("--resume: the config differs from the run's " + saved + " in " + changed
          + "; resuming would not continue the same run. Undo the change or start a new run");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> flatten(Object node, String prefix) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (node instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.putAll(flatten(e.getValue(), prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey()));
      }
    } else {
      out.put(prefix, node);
    }
    return out;
  }

  /** Peak resident memory of this process (VmHWM), or -1 where /proc is absent. */
  static long peakRssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  /** Epochs of the run: the sum of the stages' epochs when every stage is given in epochs. */
  static int epochs(RunConfig.Training t) {
    if (!t.stages.isEmpty() && t.stages.stream().allMatch(s -> s.epochs != null)) {
      return t.stages.stream().mapToInt(s -> s.epochs).sum();
    }
    return t.epochs;
  }

  static ReplaySchedule replay(RunConfig.Replay r) {
    return switch (r.schedule) {
      case NONE -> ReplaySchedule.constant(0);
      case CONSTANT -> ReplaySchedule.constant(r.ratio);
      case LINEAR -> ReplaySchedule.linear(r.start, r.end);
      case LIST -> ReplaySchedule.perEpoch(r.ratios);
    };
  }

  static DType dtype(String s) {
    return switch (s) {
      case "bf16" -> DType.BF16;
      case "f16" -> DType.F16;
      default -> DType.F32;
    };
  }

  /** Refuses to mix a new run into a folder that holds one, unless asked to overwrite or resume. */
  static void prepareOutput(Path output, Existing existing) throws IOException {
    boolean holdsRun = false;
    if (Files.isDirectory(output)) {
      try (Stream<Path> s = Files.list(output)) {
        holdsRun = s.anyMatch(p -> Set.of("metrics.jsonl", "checkpoints", "model", "adapter", "run.yaml")
            .contains(p.getFileName().toString()));
      }
    } else if (Files.exists(output)) {
      throw new IllegalArgumentException("output " + output + " exists and is not a folder");
    }
    switch (existing) {
      case REFUSE -> {
        if (holdsRun) {
          throw new IllegalArgumentException("output " + output + " already holds a run; pass --resume to continue it, "
              + "--overwrite to replace it, or choose another output");
        }
      }
      case OVERWRITE -> {
        if (holdsRun) {
          for (String name : List.of("metrics.jsonl", "checkpoints", "checkpoints-best", "model", "adapter", "run.yaml",
              "eval-before.json", "eval.json", "summary.json", "importance")) {
            AtomicFiles.deleteTree(output.resolve(name));
          }
        }
      }
      case RESUME -> {
        if (!holdsRun) {
          throw new IllegalArgumentException("--resume: " + output + " holds no run to resume");
        }
      }
      default -> throw new IllegalStateException();
    }
    Files.createDirectories(output);
  }
}
