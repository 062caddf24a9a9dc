package dev.retain.cli;

import dev.retain.bench.BenchModels;
import dev.retain.bench.MemoryPlan;
import dev.retain.model.ModelConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code retain plan}: how much memory full fine-tuning and LoRA need, for a model and for Llama 7B. */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = {
      "Estimate the peak memory of a training step, full fine-tuning and LoRA side by side: runtime,",
      "weights, gradients, AdamW moments, the step's activations and the backward/optimizer peak, for",
      "the model and for Llama 7B at the same batch and sequence length (float32). The allocator's",
      "slack follows the allocator this process runs with (tcmalloc when the launcher preloads it, else",
      "glibc; RETAIN_MALLOC). The formulas are in dev.retain.bench.MemoryPlan; BENCHMARKS.md compares",
      "them with measured peaks."})
final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true,
      description = "model folder (config.json), a config.json file, or a named shape: 2m, base, 25m, 50m, 7b")
  String model;

  @Option(names = "--lora", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE})")
  int r;

  @Option(names = "--lora-targets", split = ",", defaultValue = "q_proj,v_proj",
      description = "projections LoRA adapts, or all-linear (default ${DEFAULT-VALUE})")
  List<String> targets;

  @Option(names = "--batch", defaultValue = "16", description = "rows per step (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--seq", defaultValue = "128", description = "tokens per row (default ${DEFAULT-VALUE})")
  int seq;

  @Option(names = "--target-share", defaultValue = "1",
      description = {"share of the positions that carry loss, 0 to 1 (default ${DEFAULT-VALUE}: every one). The head",
          "and its gradients run only there: prompt/completion data has fewer (the bundled cardio and general",
          "data about 0.3; `retain train` prints each source's tokens and how many are trained on)"})
  double targetShare;

  @Option(names = "--base-precision", defaultValue = "float32",
      description = {"float32, or bfloat16: LoRA's frozen linear layers on bfloat16 copies (training.base_precision),",
          "which adds the copies and the bfloat16 gradient casts at the head (default ${DEFAULT-VALUE})"})
  String basePrecision;

  @Option(names = "--runtime-mib", description = "JVM + libtorch resident memory before the model (default: "
      + MemoryPlan.DEFAULT_RUNTIME_BYTES / (1 << 20) + " MiB, measured on the benchmark machine)")
  Long runtimeMib;

  @Override
  public Integer call() throws Exception {
    if (r < 1 || batch < 1 || seq < 1) {
      throw new Errors.UserException("--lora, --batch and --seq must be >= 1");
    }
    if (!dev.retain.train.RunConfig.PRECISIONS.contains(basePrecision)) {
      throw new Errors.UserException("--base-precision must be float32 or bfloat16, got '" + basePrecision + "'");
    }
    if (!(targetShare >= 0 && targetShare <= 1)) {
      throw new Errors.UserException("--target-share must be between 0 and 1, got " + targetShare);
    }
    Set<String> t = new LinkedHashSet<>();
    for (String s : targets) {
      if (s.equals("all-linear")) {
        t.addAll(List.of(dev.retain.bench.Flops.MODULES));
      } else if (List.of(dev.retain.bench.Flops.MODULES).contains(s)) {
        t.add(s);
      } else {
        throw new Errors.UserException("--lora-targets: '" + s + "' is not a projection; use q_proj, k_proj, v_proj, "
            + "o_proj, gate_proj, up_proj, down_proj or all-linear");
      }
    }
    long runtime = runtimeMib != null ? runtimeMib << 20 : MemoryPlan.DEFAULT_RUNTIME_BYTES;
    PrintWriter out = spec.commandLine().getOut();
    ModelConfig c = BenchModels.resolve(model);
    out.print(table(BenchModels.label(model), c, t, runtime, true));
    out.println();
    out.print(table("Llama 7B (hidden 4096, 32 layers, 32 heads, FFN 11008, vocab 32000)", BenchModels.resolve("7b"), t,
        runtime, false));
    out.flush();
    return 0;
  }

  String table(String name, ModelConfig c, Set<String> t, long runtime, boolean how) {
    long n = Math.round(targetShare * batch * seq);
    MemoryPlan full = MemoryPlan.full(c, batch, seq, runtime).withTargetPositions(n);
    MemoryPlan lora = MemoryPlan.lora(c, r, t, batch, seq, runtime).withTargetPositions(n);
    boolean bfloat16 = basePrecision.equals("bfloat16");
    if (bfloat16) {
      lora = lora.withBfloat16Base();
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s: %,d parameters; batch %d x seq %d, loss at %,d positions, float32; allocator %s%n%n",
        name, full.params(), batch, seq, n, full.allocator().label));
    sb.append(String.format(Locale.ROOT, "| part | full fine-tuning | LoRA r=%d (%s)%s |%s%n", r, String.join(", ", t),
        bfloat16 ? ", bfloat16 base" : "", how ? " how (full) |" : ""));
    sb.append("|---|---:|---:|").append(how ? "---|" : "").append('\n');
    List<String> parts = new ArrayList<>(List.of("runtime", "weights", "gradients", "adamw", "activations"));
    if (bfloat16) {
      parts.add(2, "bfloat16 copies");
    }
    for (String p : parts) {
      sb.append(row(p, full.bytes(p), lora.bytes(p), how ? how(p.equals("bfloat16 copies") ? lora : full, p) : null));
    }
    sb.append(row("peak transient (backward)", full.bytes("backward"), lora.bytes("backward"), how ? how(full, "backward") : null));
    sb.append(row("allocator slack", full.bytes("allocator"), lora.bytes("allocator"), how ? how(full, "allocator") : null));
    sb.append(row("**total (peak)**", full.total(), lora.total(), how ? "sum of the above" : null));
    sb.append(String.format(Locale.ROOT, "%ngradients + AdamW moments: LoRA %s = %.2f%% of full (%s)%n",
        size(lora.gradientAndOptimizerBytes()), 100.0 * lora.gradientAndOptimizerBytes() / full.gradientAndOptimizerBytes(),
        size(full.gradientAndOptimizerBytes())));
    return sb.toString();
  }

  private static String how(MemoryPlan p, String part) {
    return p.items().stream().filter(i -> i.name().equals(part)).map(MemoryPlan.Item::how).findFirst().orElse("");
  }

  private static String row(String part, long full, long lora, String how) {
    return String.format(Locale.ROOT, "| %s | %s | %s |%s%n", part, size(full), size(lora), how == null ? "" : " " + how + " |");
  }

  static String size(long bytes) {
    double b = bytes;
    if (b >= 1L << 30) {
      return String.format(Locale.ROOT, "%.2f GiB", b / (1L << 30));
    }
    return String.format(Locale.ROOT, "%.1f MiB", b / (1 << 20));
  }
}
