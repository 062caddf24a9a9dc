package dev.retain.cli;

import static dev.retain.testutil.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.ExampleLoader;
import dev.retain.model.Tokenizer;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.util.Json;
import dev.retain.testutil.Tiny;
import dev.retain.testutil.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** retain pretrain and retain train end to end through the command line, on small real data. */
class TrainCommandTest {
  @TempDir Path tmp;

  private Path pretrainYaml() throws Exception {
    Tiny.tokenizer(tmp);
    StringBuilder text = new StringBuilder();
    StringBuilder val = new StringBuilder();
    String[] lines = {"the heart pumps blood through the body", "the lungs fill the blood with air",
        "blood flows in vessels to every organ", "the heart has four chambers and valves"};
    for (int i = 0; i < 160; i++) {
      text.append("{\"text\": \"").append(lines[i % lines.length]).append("\"}\n");
    }
    for (int i = 0; i < 8; i++) {
      val.append("{\"text\": \"").append(lines[(i * 3) % lines.length]).append("\"}\n");
    }
    Files.writeString(tmp.resolve("train.jsonl"), text);
    Files.writeString(tmp.resolve("val.jsonl"), val);
    Path yaml = tmp.resolve("base.yaml");
    Files.writeString(yaml, String.join("\n",
        "tokenizer: tokenizer.json",
        "output: base",
        "seed: 3",
        "architecture:",
        "  hidden_size: 48",
        "  intermediate_size: 96",
        "  num_hidden_layers: 2",
        "  num_attention_heads: 4",
        "  max_position_embeddings: 64",
        "data:",
        "  seq_len: 48",
        "  sources:",
        "    prose:",
        "      train: train.jsonl",
        "      validation: val.jsonl",
        "training:",
        "  epochs: 6",
        "  batch_size: 8",
        "  lr: 0.01",
        "  warmup_steps: 5",
        "  log_every: 5",
        ""));
    return yaml;
  }

  /** Cross-entropy (nats/token) of the training file's unigram distribution on the validation targets. */
  private double unigramEntropy() throws Exception {
    try (Tokenizer tok = Tokenizer.load(tmp.resolve("tokenizer.json"))) {
      ExampleLoader loader = new ExampleLoader(new Encoder(tok, 1, 2, 48), null, false);
      Map<Integer, Integer> counts = new HashMap<>();
      long total = 0;
      for (Example e : loader.load(tmp.resolve("train.jsonl")).examples()) {
        for (int i = 0; i < e.length(); i++) {
          if (e.isTarget(i)) {
            counts.merge(e.id(i), 1, Integer::sum);
            total++;
          }
        }
      }
      double h = 0;
      long n = 0;
      for (Example e : loader.load(tmp.resolve("val.jsonl")).examples()) {
        for (int i = 0; i < e.length(); i++) {
          if (e.isTarget(i)) {
            h -= Math.log(counts.getOrDefault(e.id(i), 1) / (double) total);
            n++;
          }
        }
      }
      return h / n;
    }
  }

  @Test
  void pretrainBeatsTheUnigramEntropyThenTrainFineTunesIt() throws Exception {
    Path yaml = pretrainYaml();
    Run r = run("pretrain", "--config", yaml.toString());
    assertEquals(0, r.code(), r.err() + r.out());
    Path model = tmp.resolve("base/model");
    assertTrue(Files.isRegularFile(model.resolve("model.safetensors")) && Files.isRegularFile(model.resolve("tokenizer.json")));
    double valLoss = -1;
    for (String line : Files.readAllLines(tmp.resolve("base/metrics.jsonl"))) {
      JsonNode n = Json.MAPPER.readTree(line);
      if (n.path("kind").asText().equals("eval")) {
        valLoss = n.path("val_loss").path("prose").asDouble();
      }
    }
    double unigram = unigramEntropy();
    System.out.printf("pretrain: validation loss %.4f vs unigram entropy %.4f nats/token%n", valLoss, unigram);
    assertTrue(valLoss > 0 && valLoss < 0.5 * unigram, "val " + valLoss + " unigram " + unigram);

    // A second run into the same output is refused; --overwrite replaces it.
    Run again = run("pretrain", "--config", yaml.toString(), "--max-steps", "2");
    assertEquals(2, again.code());
    assertTrue(again.err().contains("already holds a run"), again.err());

    // Fine-tune the pretrained model on the same file with a frozen bottom layer.
    Path trainYaml = tmp.resolve("train.yaml");
    Files.writeString(trainYaml, String.join("\n",
        "model: base/model",
        "output: tuned",
        "data:",
        "  seq_len: 48",
        "  sources:",
        "    domain: {train: train.jsonl, validation: val.jsonl}",
        "training:",
        "  epochs: 1",
        "  batch_size: 8",
        "  trainable: top:1+head",
        ""));
    Run t = run("train", "--config", trainYaml.toString());
    assertEquals(0, t.code(), t.err() + t.out());
    try (SafetensorsFile a = SafetensorsFile.open(model.resolve("model.safetensors"));
        SafetensorsFile b = SafetensorsFile.open(tmp.resolve("tuned/model/model.safetensors"))) {
      assertArrayEquals(a.readFloats("model.layers.0.mlp.up_proj.weight"), b.readFloats("model.layers.0.mlp.up_proj.weight"));
      assertTrue(!java.util.Arrays.equals(a.readFloats("lm_head.weight"), b.readFloats("lm_head.weight")));
    }
    assertTrue(Files.isRegularFile(tmp.resolve("tuned/run.yaml")));
  }

  @Test
  void configErrorsStopBeforeAnyWork() throws Exception {
    Tiny.tokenizer(tmp);
    Files.writeString(tmp.resolve("t.jsonl"), "{\"text\": \"a\"}\n");
    Path yaml = tmp.resolve("bad.yaml");
    Files.writeString(yaml, String.join("\n",
        "tokenizer: tokenizer.json",
        "output: out",
        "data:",
        "  sources:",
        "    d: {train: t.jsonl, validation: missing.jsonl}",
        "  replay: {schedule: constant, ratio: 1.5}",
        "training:",
        "  warmup_step: 3",
        "  epochs: three",
        "  lr: -1",
        "lora: {r: 0}",
        ""));
    Run r = run("train", "--config", yaml.toString());
    assertEquals(2, r.code());
    String err = r.err();
    for (String want : List.of("warmup_step", "did you mean 'warmup_steps'", "epochs", "three", "training.lr", "ratio", "1.5", "missing.jsonl", "bad.yaml:",
        "lora.r must be >= 1, got 0")) {
      assertTrue(err.contains(want), "missing '" + want + "' in:\n" + err);
    }
    assertTrue(!Files.exists(tmp.resolve("out")), "nothing may be written");
  }
}
