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
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.ModelSaver;
import dev.retain.model.Tokenizer;
import dev.retain.model.safetensors.DType;
import dev.retain.util.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

      Trainer trainer = new Trainer(new Trainer.Setup(model, mixture, packer, validation, cfg.training, cfg.seed,
          output, new ArrayList<>(), Set.of(), epochs));
      if (existing == Existing.RESUME) {
        Path latest = trainer.checkpoints().latest().orElseThrow(() -> new IllegalArgumentException(
            output + ": --resume found no complete checkpoint under checkpoints/; start without --resume"));
        out.println("resuming from " + latest);
        trainer.resumeFrom(latest);
      }
      AtomicFiles.writeString(output.resolve("run.yaml"), ConfigBinder.toYaml(cfg));
      out.println(ParameterReport.of(model, Set.of()).describe());
      out.printf("%s: %d steps over %d epoch(s), batch %d x %d tokens, grad_accum %d%n", mode.name().toLowerCase(),
          trainer.totalSteps(), epochs, cfg.training.batchSize, cfg.data.seqLen, cfg.training.gradAccum);

      Trainer.Result result = trainer.run();

      Path modelDir = output.resolve("model");
      ModelSaver.save(model, modelDir, dtype(cfg.training.saveDtype), cfg.model);
      if (cfg.model == null) {
        Files.copy(tok.file(), modelDir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      out.printf("done in %.1f s (%.0f tokens/s); model saved to %s%n", result.seconds(),
          result.tokens() / Math.max(1e-9, result.seconds()), modelDir);
      result.validationLoss().forEach((k, v) -> out.printf("  validation loss %s: %.4f nats/token%n", k, v));
      return result;
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
          for (String name : List.of("metrics.jsonl", "checkpoints", "model", "adapter", "run.yaml")) {
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
