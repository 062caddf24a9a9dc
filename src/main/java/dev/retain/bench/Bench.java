package dev.retain.bench;

import dev.retain.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code retain bench}: for one model shape, each case measured by retain and then, right after, by
 * the PyTorch peer with the same shapes, seed, threads and steps; repeated {@code repeats} times
 * (retain, peer, retain, peer, ...) so that both see the same machine load. Ratios are retain/PyTorch
 * tokens per second (above 1: retain is faster), the median of the per-repeat ratios.
 */
public final class Bench {
  private Bench() {}

  /** Both sides' results of one case over the repeats. */
  public static final class CaseRuns {
    public final BenchCase kase;
    public final List<CaseResult> retain = new ArrayList<>();
    /** The peer's results, aligned with {@link #retain} (null where the peer failed). */
    public final List<CaseResult> peer = new ArrayList<>();

    CaseRuns(BenchCase kase) {
      this.kase = kase;
    }

    private List<CaseResult> peerOk() {
      return peer.stream().filter(java.util.Objects::nonNull).toList();
    }

    /** Median over repeats of retain's tokens/s. */
    public double retainTokensPerSecond() {
      return CaseResult.median(retain.stream().map(CaseResult::tokensPerSecond).toList());
    }

    public double peerTokensPerSecond() {
      return CaseResult.median(peerOk().stream().map(CaseResult::tokensPerSecond).toList());
    }

    /** Median over repeats of retain tokens/s / PyTorch tokens/s, each pair measured back to back. */
    public double ratio() {
      List<Double> r = new ArrayList<>();
      for (int i = 0; i < Math.min(retain.size(), peer.size()); i++) {
        if (peer.get(i) != null) {
          r.add(retain.get(i).tokensPerSecond() / peer.get(i).tokensPerSecond());
        }
      }
      return CaseResult.median(r);
    }

    public double retainSeconds() {
      return CaseResult.median(retain.stream().map(CaseResult::medianSeconds).toList());
    }

    public double peerSeconds() {
      return CaseResult.median(peerOk().stream().map(CaseResult::medianSeconds).toList());
    }

    public double retainPeakRss() {
      return CaseResult.median(retain.stream().map(r -> (double) r.peakRss()).toList());
    }

    public double peerPeakRss() {
      return CaseResult.median(peerOk().stream().map(r -> (double) r.peakRss()).toList());
    }

    /** Whether the peer measured this case at least once. */
    public boolean hasPeer() {
      return !peerOk().isEmpty();
    }
  }

  /** A whole invocation's results. */
  public static final class Report {
    public final String modelSpec;
    public final ModelConfig config;
    public final Workload.Settings settings;
    public final int threads;
    public final Map<BenchCase, CaseRuns> runs = new LinkedHashMap<>();
    public String peerNote;
    public String loadBefore;
    public String loadAfter;
    /** Environment set for both sides' processes (OMP_WAIT_POLICY, --env), or "default". */
    public String envNote = "default";
    public final boolean forked;

    Report(String modelSpec, ModelConfig config, Workload.Settings settings, int threads, boolean forked) {
      this.modelSpec = modelSpec;
      this.config = config;
      this.settings = settings;
      this.threads = threads;
      this.forked = forked;
    }

    /** Machine matmul peak: the median over all cases and repeats of retain's 1024^3 measurement (fastest of 15). */
    public double matmulPeak() {
      List<Double> v = new ArrayList<>();
      runs.values().forEach(c -> c.retain.forEach(r -> {
        if (Double.isFinite(r.matmulGflops())) {
          v.add(r.matmulGflops());
        }
      }));
      return CaseResult.median(v);
    }

    public double peerMatmul() {
      List<Double> v = new ArrayList<>();
      runs.values().forEach(c -> c.peer.forEach(r -> {
        if (r != null && Double.isFinite(r.matmulGflops())) {
          v.add(r.matmulGflops());
        }
      }));
      return CaseResult.median(v);
    }

    /** Model FLOP utilisation of tokens/s for a case against the matmul peak. */
    public double mfu(BenchCase c, double tokensPerSecond) {
      return Workload.flopsPerToken(c, config, settings) * tokensPerSecond / (matmulPeak() * 1e9);
    }

    /** The plan's estimate for a training case, or null for cases it does not cover. */
    public MemoryPlan plan(BenchCase c) {
      MemoryPlan p = switch (c) {
        case FULL -> MemoryPlan.full(config, settings.batch(), settings.seq(), MemoryPlan.DEFAULT_RUNTIME_BYTES);
        case LORA_QV, LORA_ALL -> MemoryPlan.lora(config, settings.loraR(), Workload.loraTargets(c), settings.batch(),
            settings.seq(), MemoryPlan.DEFAULT_RUNTIME_BYTES);
        case LORA_QV_BF16 -> MemoryPlan.lora(config, settings.loraR(), Workload.loraTargets(c), settings.batch(),
            settings.seq(), MemoryPlan.DEFAULT_RUNTIME_BYTES).withBfloat16Base();
        default -> null;
      };
      // Each benchmark row is one document: every position but the last (and a prompt's) has a target.
      return p == null ? null : p.withTargetPositions(settings.targetPositions());
    }

    /** The table and the targets, as printed. */
    public String format() {
      StringBuilder sb = new StringBuilder();
      long params = MemoryPlan.baseParams(config);
      sb.append(String.format(Locale.ROOT, "model %s: %,d parameters (%,d in matmuls), batch %d x seq %d, %d thread(s), "
          + "%d timed steps after %d warm-up, %d repeat(s)%s%n", BenchModels.label(modelSpec), params,
          Flops.matmulParams(config), settings.batch(), settings.seq(), threads, settings.steps(), settings.warmup(),
          runs.values().stream().mapToInt(r -> r.retain.size()).max().orElse(0),
          forked ? ", each case in its own process" : ", in-process (peak memory shared by all cases)"));
      sb.append(String.format(Locale.ROOT, "float32 matmul 1024^3 (peak, fastest of 15): retain (DJL) %.1f GFLOP/s%s%n", matmulPeak(),
          Double.isNaN(peerMatmul()) ? "" : String.format(Locale.ROOT, ", PyTorch %.1f GFLOP/s", peerMatmul())));
      if (settings.targetShare() < 1) {
        sb.append(String.format(Locale.ROOT, "loss at %,d of %,d positions per step (--target-share %s: each row's first %d "
            + "positions are a prompt); tokens/s count every position, MFU counts the model's FLOPs at every "
            + "position, as the peer computes them (it takes logits everywhere and ignores the prompt's)%n",
            settings.targetPositions(), (long) settings.batch() * settings.seq(), settings.targetShare(),
            settings.firstTarget()));
      }
      if (peerNote != null) {
        sb.append("peer: ").append(peerNote).append('\n');
      }
      sb.append("environment of both sides: ").append(envNote).append('\n');
      if (loadBefore != null) {
        sb.append("load average before: ").append(loadBefore).append("; after: ").append(loadAfter).append('\n');
      }
      sb.append('\n');
      sb.append("| case | retain tok/s | PyTorch tok/s | retain/PyTorch | retain s/unit | PyTorch s/unit "
          + "| MFU retain | MFU PyTorch | peak RSS retain | peak RSS PyTorch | plan | plan error |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (CaseRuns c : runs.values()) {
        double rt = c.retainTokensPerSecond();
        double pt = c.peerTokensPerSecond();
        MemoryPlan plan = plan(c.kase);
        double measured = c.retainPeakRss();
        sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
            c.kase.title, num(rt), num(pt), ratio(c.ratio()), secs(c.retainSeconds()), secs(c.peerSeconds()),
            pct(mfu(c.kase, rt)), pct(mfu(c.kase, pt)), mib(measured), mib(c.peerPeakRss()),
            plan == null ? "" : mib(plan.total()),
            plan == null || !forked ? "" : String.format(Locale.ROOT, "%+.1f%%", 100.0 * (plan.total() - measured) / measured)));
      }
      sb.append('\n').append(targets());
      return sb.toString();
    }

    /**
     * The targets, each with the value measured here, one digit finer than the table so that
     * a value just short of its threshold does not read as meeting it.
     */
    public String targets() {
      StringBuilder sb = new StringBuilder("targets:\n");
      CaseRuns full = runs.get(BenchCase.FULL);
      CaseRuns qv = runs.get(BenchCase.LORA_QV);
      CaseRuns all = runs.get(BenchCase.LORA_ALL);
      if (full != null && full.hasPeer()) {
        line(sb, "full fine-tuning retain/PyTorch >= 1.0 (goal 1.15)", exact(full.ratio()), full.ratio() >= 1.0);
      }
      if (qv != null && qv.hasPeer()) {
        line(sb, "LoRA q,v retain/PyTorch >= 1.0 (goal 1.15)", exact(qv.ratio()), qv.ratio() >= 1.0);
      }
      if (all != null && all.hasPeer()) {
        line(sb, "LoRA all-linear retain/PyTorch >= 1.0 (goal 1.15)", exact(all.ratio()), all.ratio() >= 1.0);
      }
      if (full != null) {
        double m = mfu(BenchCase.FULL, full.retainTokensPerSecond());
        line(sb, "MFU of full fine-tuning >= 75% of matmul peak (target set for 25m)", String.format(Locale.ROOT, "%.1f%%", 100 * m), m >= 0.75);
      }
      for (CaseRuns l : new CaseRuns[] {qv, runs.get(BenchCase.LORA_QV_BF16), all}) {
        if (full != null && l != null) {
          double r = l.retainSeconds() / full.retainSeconds();
          line(sb, l.kase.title + " step time <= 0.7 x full", exact(r), r <= 0.7);
          double mem = (double) (l.retain.get(0).gradBytes() + l.retain.get(0).optimizerStateBytes())
              / (full.retain.get(0).gradBytes() + full.retain.get(0).optimizerStateBytes());
          line(sb, l.kase.title + " gradient + AdamW memory <= 2% of full", String.format(Locale.ROOT, "%.2f%%", 100 * mem),
              mem <= 0.02);
        }
      }
      adds(sb, "EWC adds <= 10% to the full step", runs.get(BenchCase.FULL_EWC), full, 0.10);
      adds(sb, "distillation adds <= 45% to the LoRA q,v step", runs.get(BenchCase.LORA_KD), qv, 0.45);
      adds(sb, "distillation, bfloat16 teacher, adds <= 45% to the LoRA q,v step", runs.get(BenchCase.LORA_KD_BF16), qv, 0.45);
      adds(sb, "distillation adds <= 45% to the LoRA q,v step, both on a bfloat16 base", runs.get(BenchCase.LORA_KD_BF16_BASE),
          runs.get(BenchCase.LORA_QV_BF16), 0.45);
      adds(sb, "distillation adds <= 45% to the full step", runs.get(BenchCase.FULL_KD), full, 0.45);
      return sb.toString();
    }

    /** What a loss term adds to its plain case's step time, against {@code limit} (skipped unless both ran). */
    private static void adds(StringBuilder sb, String what, CaseRuns with, CaseRuns plain, double limit) {
      if (with != null && plain != null) {
        double r = with.retainSeconds() / plain.retainSeconds() - 1;
        line(sb, what, String.format(Locale.ROOT, "%+.1f%%", 100 * r), r <= limit);
      }
    }

    private static String exact(double x) {
      return String.format(Locale.ROOT, "%.3f", x);
    }

    private static void line(StringBuilder sb, String what, String value, boolean met) {
      sb.append(String.format(Locale.ROOT, "  %-68s %8s  %s%n", what, value, met ? "met" : "NOT met"));
    }
  }

  /** Runs every case (retain, then the peer) {@code repeats} times. */
  public static Report run(Runner runner, Runner.Setup setup, List<BenchCase> cases, int repeats, boolean peer,
      PrintStream log) throws IOException, InterruptedException {
    Report rep = new Report(setup.modelSpec(), setup.config(), setup.settings(), setup.threads(), setup.fork());
    rep.loadBefore = loadAverage();
    rep.envNote = envNote(setup);
    if (peer) {
      String problem = runner.peerProblem();
      if (problem != null) {
        rep.peerNote = "skipped: " + problem;
        log.println("peer " + rep.peerNote);
        peer = false;
      } else {
        rep.peerNote = setup.peerPython() + " " + setup.peerScript();
      }
    } else {
      rep.peerNote = "off";
    }
    for (BenchCase c : cases) {
      rep.runs.put(c, new CaseRuns(c));
    }
    for (int i = 0; i < repeats; i++) {
      for (BenchCase c : cases) {
        CaseRuns runs = rep.runs.get(c);
        log.printf(Locale.ROOT, "[%d/%d] %-26s retain ... ", i + 1, repeats, c.title);
        log.flush();
        CaseResult r = runner.retain(c);
        runs.retain.add(r);
        log.printf(Locale.ROOT, "%s tok/s", num(r.tokensPerSecond()));
        if (peer) {
          log.print(", PyTorch ... ");
          log.flush();
          try {
            CaseResult p = runner.peer(c);
            runs.peer.add(p);
            log.printf(Locale.ROOT, "%s tok/s (ratio %.2f)", num(p.tokensPerSecond()), r.tokensPerSecond() / p.tokensPerSecond());
          } catch (IOException e) {
            // One failing peer case (say, out of memory) should not lose retain's measurements.
            log.print("failed: " + e.getMessage());
            runs.peer.add(null);
            rep.peerNote += "; " + c.id + " failed";
          }
        }
        log.println();
      }
    }
    rep.loadAfter = loadAverage();
    return rep;
  }

  /** Variables both sides' processes inherit from this one when set here (the launcher sets the allocator's). */
  static final List<String> INHERITED = List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_",
      "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES", "OMP_WAIT_POLICY", "LD_PRELOAD", "TCMALLOC_RELEASE_RATE",
      "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD");

  static String envNote(Runner.Setup setup) {
    Map<String, String> set = new LinkedHashMap<>();
    for (String k : INHERITED) {
      String v = System.getenv(k);
      if (v != null) {
        set.put(k, v);
      }
    }
    if (setup.ompWaitPolicy() != null) {
      set.put("OMP_WAIT_POLICY", setup.ompWaitPolicy());
    }
    if (setup.env() != null) {
      set.putAll(setup.env());
    }
    List<String> parts = new ArrayList<>();
    set.forEach((k, v) -> parts.add(k + "=" + v));
    return parts.isEmpty() ? "default" : String.join(" ", parts);
  }

  /** /proc/loadavg's three load averages, or "unknown". */
  public static String loadAverage() {
    try {
      String s = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
      String[] p = s.split("\\s+");
      return p[0] + ", " + p[1] + ", " + p[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  static String ratio(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  static String secs(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }

  static String pct(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * v);
  }

  static String mib(double bytes) {
    return Double.isNaN(bytes) || bytes < 0 ? "-" : String.format(Locale.ROOT, "%,.0f MiB", bytes / (1 << 20));
  }
}
