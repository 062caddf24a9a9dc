package dev.retain.cli;

import dev.retain.data.Encoder;
import dev.retain.eval.EvalReport;
import dev.retain.eval.ProbeRunner;
import dev.retain.eval.Probes;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.Tokenizer;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** retain eval: probe scores of a model, and its forgetting against a base model. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Score a model on probe suites (exact match, multiple choice, cross-entropy) with 95% intervals;",
        "with --base, also the base model and the forgetting metrics (retention, drop, gain, CE rise)."})
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "model folder (Hugging Face layout)")
  Path model;

  @Option(names = "--adapter", description = "adapter folder to apply to --model")
  Path adapter;

  @Option(names = "--probes", required = true, description = "probe folder with suites.json, or one suite file")
  Path probes;

  @Option(names = "--base", description = "base model folder to compare against")
  Path base;

  @Option(names = "--limit", defaultValue = "0", description = "items per suite (0 = all)")
  int limit;

  @Option(names = "--seq-len", defaultValue = "256", description = "sequence length for text suites (default ${DEFAULT-VALUE})")
  int seqLen;

  @Option(names = "--max-new-tokens", defaultValue = "24", description = "longest exact-match answer (default ${DEFAULT-VALUE})")
  int maxNewTokens;

  @Option(names = "--out", description = "write the report as JSON here")
  Path out;

  @Override
  public Integer call() throws Exception {
    List<Probes.Suite> suites = Probes.load(probes);
    List<ProbeRunner.Result> before = base == null ? null : score(base, null, suites);
    List<ProbeRunner.Result> after = score(model, adapter, suites);
    EvalReport report = new EvalReport(model.toString(), after, base == null ? null : base.toString(), before);
    System.out.print(report.table());
    if (out != null) {
      AtomicFiles.writeString(out, Json.PRETTY.writeValueAsString(report.json()) + "\n");
      System.out.println("report written to " + out);
    }
    return 0;
  }

  private List<ProbeRunner.Result> score(Path dir, Path adapterDir, List<Probes.Suite> suites) throws Exception {
    try (CausalLM lm = ModelLoader.load(dir); Tokenizer tok = Tokenizer.load(dir)) {
      tok.checkFits(lm.config, dir);
      Adapters.apply(lm, adapterDir);
      int eos = lm.config.eosTokenIds.isEmpty() ? -1 : lm.config.eosTokenIds.get(0);
      Encoder enc = new Encoder(tok, lm.config.bosTokenId, eos, seqLen);
      return new ProbeRunner(lm, enc, maxNewTokens).run(suites, limit);
    }
  }
}
