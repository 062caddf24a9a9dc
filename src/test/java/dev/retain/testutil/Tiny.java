package dev.retain.testutil;

import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.ExampleLoader;
import dev.retain.data.LoadedSource;
import dev.retain.data.Mixture;
import dev.retain.data.Packer;
import dev.retain.data.ReplaySchedule;
import dev.retain.data.Source;
import dev.retain.model.ByteLevelBpe;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.Tokenizer;
import dev.retain.peft.Adapter;
import dev.retain.train.LiveEval;
import dev.retain.train.LossTerm;
import dev.retain.train.RunConfig;
import dev.retain.train.Trainer;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A tiny model, tokenizer and data for training tests: real parts, small sizes. */
public final class Tiny {
  private Tiny() {}

  /** Byte-level tokenizer with <unk>, <s>, </s> (ids 0, 1, 2) and a few merges. */
  public static Path tokenizer(Path dir) throws IOException {
    Path f = dir.resolve("tokenizer.json");
    Files.writeString(f, Json.MAPPER.writeValueAsString(ByteLevelBpe.tokenizerJson(List.of("<unk>", "<s>", "</s>"),
        List.of(new String[] {"t", "h"}, new String[] {"Ġ", "t"}, new String[] {"e", "r"}))));
    return f;
  }

  public static ModelConfig config(int vocab) {
    return ModelConfig.fromJson(ModelConfig.llamaJson(vocab, 32, 64, 2, 4, 2), "tiny");
  }

  public static CausalLM model(long seed) {
    return ModelLoader.random(config(3 + 256 + 3), seed, 0.1);
  }

  /** Writes n lines of simple arithmetic text ("3 plus 4 is 7") to a JSONL file. */
  public static Path arithmetic(Path file, int n, int offset) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int a = (i * 7 + offset) % 10;
      int b = (i * 3 + offset) % 10;
      sb.append("{\"text\": \"").append(a).append(" plus ").append(b).append(" is ").append(a + b).append("\"}\n");
    }
    Files.writeString(file, sb.toString());
    return file;
  }

  /** Writes n prompt/completion lines about "the heart". */
  public static Path domain(Path file, int n) throws IOException {
    StringBuilder sb = new StringBuilder();
    String[] facts = {"pumps blood", "has four chambers", "beats often", "needs oxygen"};
    for (int i = 0; i < n; i++) {
      sb.append("{\"prompt\": \"the heart \", \"completion\": \"").append(facts[i % facts.length]).append("\"}\n");
    }
    Files.writeString(file, sb.toString());
    return file;
  }

  /** A trainer over domain + general (replay 0.25) with the given training settings. */
  public static Trainer trainer(Path dir, CausalLM model, RunConfig.Training cfg, int epochs, List<LossTerm> terms)
      throws IOException {
    return trainer(dir, model, cfg, epochs, terms, null);
  }

  /** The same with an adapter applied to the model (its parameters then train by default). */
  public static Trainer trainer(Path dir, CausalLM model, RunConfig.Training cfg, int epochs, List<LossTerm> terms,
      Adapter adapter) throws IOException {
    return trainer(dir, model, cfg, epochs, terms, adapter, null);
  }

  /** The same with live evaluation. */
  public static Trainer trainer(Path dir, CausalLM model, RunConfig.Training cfg, int epochs, List<LossTerm> terms,
      Adapter adapter, LiveEval live) throws IOException {
    return trainer(dir, model, cfg, epochs, terms, adapter, live, null);
  }

  /** The same with the training passes on bfloat16 copies of the frozen base's linear weights (or null). */
  public static Trainer trainer(Path dir, CausalLM model, RunConfig.Training cfg, int epochs, List<LossTerm> terms,
      Adapter adapter, LiveEval live, dev.retain.model.Bfloat16Copies baseCopies) throws IOException {
    Files.createDirectories(dir);
    Path tok = tokenizer(dir);
    Tokenizer t = Tokenizer.load(tok);
    Encoder enc = new Encoder(t, 1, 2, 32);
    ExampleLoader loader = new ExampleLoader(enc, dir.resolve("cache"), false);
    LoadedSource domain = new Source("domain", domain(dir.resolve("d.jsonl"), 48), domain(dir.resolve("dv.jsonl"), 8)).load(loader);
    LoadedSource general = new Source("general", arithmetic(dir.resolve("g.jsonl"), 64, 0), arithmetic(dir.resolve("gv.jsonl"), 8, 5)).load(loader);
    Mixture mix = new Mixture(domain.part(1.0), List.of(general.part(1.0)), ReplaySchedule.constant(0.25), epochs, 7, true);
    Map<String, List<Example>> val = new LinkedHashMap<>();
    val.put("domain", domain.validationExamples());
    val.put("general", general.validationExamples());
    return new Trainer(new Trainer.Setup(model, mix, new Packer(32, 4, 2), val, cfg, 7, dir.resolve("out"),
        new ArrayList<>(terms), adapter, epochs, live, baseCopies));
  }
}
