package dev.retain.cli;

import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.ExampleLoader;
import dev.retain.data.TokenizedFile;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.Tokenizer;
import dev.retain.retention.Importance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Estimates the diagonal Fisher of a model on general data and writes it for EWC. */
@Command(name = "importance", mixinStandardHelpOptions = true,
    description = {
      "Estimate the diagonal empirical Fisher of a model on examples of a JSONL file (text,",
      "prompt/completion or messages) and write it as safetensors keyed by parameter name, for EWC",
      "(retention.ewc.fisher). One sample is one sequence: F = mean over sequences of the squared",
      "gradient of log p(sequence) (sum over its target tokens), one backward pass per sequence."
    })
final class ImportanceCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "model folder (config.json, *.safetensors, tokenizer.json)")
  Path model;

  @Option(names = "--data", required = true, description = "JSONL file of general examples")
  Path data;

  @Option(names = "--out", required = true, description = "importance file to write (.safetensors)")
  Path out;

  @Option(names = "--samples", defaultValue = "200", description = "use the first N examples of the file (default ${DEFAULT-VALUE})")
  int samples;

  @Option(names = "--seq-len", defaultValue = "256", description = "cut examples to this many input positions (default ${DEFAULT-VALUE})")
  int seqLen;

  @Option(names = "--adapter", defaultValue = "none",
      description = "adapter folder: take the Fisher at the adapted model (w.r.t. the base weights); none = the base model (default)")
  String adapter;

  @Option(names = "--tokenizer", description = "tokenizer.json to use (default: the one in --model)")
  Path tokenizer;

  @Option(names = "--params", description = "only parameters whose name matches this regex (default: every base parameter)")
  String params;

  @Option(names = "--online-from", description = "online EWC: an earlier importance file F_old; writes gamma * F_old + F_new")
  Path onlineFrom;

  @Option(names = "--gamma", defaultValue = "1.0", description = "online EWC decay for --online-from (default ${DEFAULT-VALUE})")
  double gamma;

  @Override
  public Integer call() throws Exception {
    if (samples < 1) {
      throw new Errors.UserException("--samples must be >= 1, got " + samples);
    }
    if (seqLen < 1) {
      throw new Errors.UserException("--seq-len must be >= 1, got " + seqLen);
    }
    if (!(gamma >= 0 && gamma <= 1)) {
      throw new Errors.UserException("--gamma must be in [0, 1], got " + gamma);
    }
    if (!Files.isRegularFile(data)) {
      throw new Errors.UserException("--data " + data + ": no such file");
    }
    Importance old = onlineFrom == null ? null : Importance.load(onlineFrom);
    Pattern only = null;
    if (params != null) {
      try {
        only = Pattern.compile(params);
      } catch (PatternSyntaxException e) {
        throw new Errors.UserException("--params '" + params + "' is not a valid regex: " + e.getDescription());
      }
    }
    Path adapterDir = adapter == null || adapter.equals("none") ? null : Path.of(adapter);
    try (CausalLM lm = ModelLoader.load(model);
        Tokenizer tok = Tokenizer.load(tokenizer != null ? tokenizer : model)) {
      tok.checkFits(lm.config, model);
      Adapters.apply(lm, adapterDir);
      int eos = lm.config.eosTokenIds.isEmpty() ? -1 : lm.config.eosTokenIds.get(0);
      if (eos < 0) {
        throw new Errors.UserException(model + "/config.json: eos_token_id is not set; every example ends with it");
      }
      ExampleLoader loader = new ExampleLoader(new Encoder(tok, lm.config.bosTokenId, eos, seqLen), null, false);
      TokenizedFile file = loader.load(data);
      List<Example> all = file.examples();
      List<Example> use = all.subList(0, Math.min(samples, all.size()));
      System.out.println(file.summary());
      if (use.size() < samples) {
        System.out.printf("note: the file gives %d usable examples, fewer than --samples %d; using all of them%n", use.size(), samples);
      }
      Set<String> names = new LinkedHashSet<>();
      for (String n : lm.parameters().keySet()) {
        if (only == null || only.matcher(n).find()) {
          names.add(n);
        }
      }
      if (names.isEmpty()) {
        throw new Errors.UserException("--params '" + params + "' matches no parameter of " + model);
      }
      long n = names.stream().mapToLong(k -> lm.parameters().get(k).numel()).sum();
      System.out.printf("fisher: %d sequences, %d tensors (%,d parameters), adapters %s%n", use.size(), names.size(), n,
          adapterDir == null ? "off (base model)" : "on (" + adapterDir + ")");
      long start = System.nanoTime();
      int every = Math.max(1, use.size() / 10);
      int total = use.size();
      Importance.FisherOptions opt = new Importance.FisherOptions()
          .parameters(names)
          .adaptersOn(adapterDir != null)
          .model(model.toString())
          .progress(done -> {
            if (done % every == 0 || done == total) {
              double s = (System.nanoTime() - start) / 1e9;
              System.out.printf("fisher: %d/%d sequences, %.1f s (%.2f s/sequence)%n", done, total, s, s / done);
            }
          });
      Importance f = Importance.fisher(lm, use, opt);
      if (old != null) {
        f = old.online(f, gamma);
        System.out.printf("online EWC: F = %s * F(%s) + F_new%n", gamma, onlineFrom);
      }
      f.save(out);
      printSummary(f);
      System.out.printf("wrote %s (%d tensors, total Fisher mass %.6g)%n", out, f.names().size(), f.total());
    }
    return 0;
  }

  private static void printSummary(Importance f) {
    Map<String, Importance.Mass> groups = f.massByGroup();
    double total = f.total();
    System.out.printf("%-16s %14s %12s %12s %8s%n", "group", "parameters", "sum", "mean", "share");
    for (Map.Entry<String, Importance.Mass> e : groups.entrySet()) {
      Importance.Mass m = e.getValue();
      System.out.printf("%-16s %,14d %12.4g %12.4g %7.2f%%%n", e.getKey(), m.numel(), m.sum(), m.mean(),
          total > 0 ? 100 * m.sum() / total : 0);
    }
  }
}
