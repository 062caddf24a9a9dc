package dev.retain.cli;

import dev.retain.bench.Bench;
import dev.retain.bench.BenchCase;
import dev.retain.bench.BenchModels;
import dev.retain.bench.Profile;
import dev.retain.bench.Runner;
import dev.retain.bench.Sweep;
import dev.retain.bench.Workload;
import dev.retain.model.ModelConfig;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code retain bench}: training, evaluation and generation speed and memory, side by side with PyTorch. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {
      "Measure training tokens/s and peak memory (full, LoRA q,v, LoRA all-linear, LoRA + distillation,",
      "full + EWC, full + distillation), evaluation and generation tokens/s, the float32 matmul peak and MFU; each case runs in",
      "its own JVM and then in the PyTorch peer (bench/peer.py) with the same shapes, seed, threads and",
      "steps, and the ratio retain/PyTorch is printed. The peer needs Debian's python3-torch:",
      "  apt-get install python3-torch libopenblas0-openmp",
      "Both sides inherit this process's environment, so the allocator the retain launcher picks (tcmalloc",
      "preloaded when installed, else glibc with MALLOC_* settings) serves both; the report prints it.",
      "RETAIN_MALLOC=glibc-tuned or =glibc ./retain bench ... measures both with the others. See BENCHMARKS.md."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--model", defaultValue = "base",
      description = "2m, base, 25m, 50m, tiny, or a model folder / config.json (default ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--cases", split = ",", description = "cases to run (default all): full, lora_qv, lora_qv_bf16, lora_all, lora_kd, lora_kd_bf16, lora_kd_bf16base, full_ewc, full_kd, eval, generate")
  List<String> cases;

  @Option(names = "--steps", defaultValue = "8", description = "timed steps per case (default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--batch", defaultValue = "16", description = "rows per step (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--seq", defaultValue = "128", description = "tokens per row (default ${DEFAULT-VALUE})")
  int seq;

  @Option(names = "--target-share", defaultValue = "1",
      description = {"share of each row's positions that carry loss, in (0, 1] (default ${DEFAULT-VALUE}: all but the",
          "last). Below 1 the row's start is a prompt without targets, as in prompt/completion data (the bundled",
          "data: about 0.3); the peer takes logits everywhere and ignores the prompt's, as transformers does"})
  double targetShare;

  @Option(names = "--threads", description = "intra-op threads, both sides (default 2; 1 for --smoke)")
  Integer threads;

  @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank (alpha 32) (default ${DEFAULT-VALUE})")
  int loraR;

  @Option(names = "--gen-prompt", defaultValue = "16", description = "prompt tokens for generation (default ${DEFAULT-VALUE})")
  int genPrompt;

  @Option(names = "--gen-tokens", defaultValue = "64", description = "new tokens per generation (default ${DEFAULT-VALUE})")
  int genTokens;

  @Option(names = "--repeats", defaultValue = "1",
      description = "run every case (retain, then PyTorch) this many times; medians are reported (default ${DEFAULT-VALUE})")
  int repeats;

  @Option(names = "--peer", defaultValue = "auto",
      description = "auto (run when torch imports; off for --smoke), on (fail without it) or off (default ${DEFAULT-VALUE})")
  String peer;

  @Option(names = "--python", description = "the Python for the peer (default: $RETAIN_PEER_PYTHON, else /usr/bin/python3)")
  String python;

  @Option(names = "--peer-script", description = "path of bench/peer.py (default: found from the working directory or the jar)")
  Path peerScript;

  @Option(names = "--java-opts", defaultValue = "-Xmx8g", description = "JVM options of each case's JVM (default ${DEFAULT-VALUE})")
  String javaOpts;

  @Option(names = "--omp-wait-policy", description = "set OMP_WAIT_POLICY (PASSIVE or ACTIVE) for both sides' processes")
  String ompWaitPolicy;

  @Option(names = "--env", description = "KEY=VALUE set in both sides' processes (repeatable), e.g. MALLOC_TOP_PAD_=...")
  java.util.Map<String, String> env;

  @Option(names = "--in-process", description = "run retain's cases in this JVM (peak memory then covers all cases)")
  boolean inProcess;

  @Option(names = "--smoke", description = "seconds-long check that everything runs: tiny model, 2 steps, in-process")
  boolean smoke;

  @Option(names = "--sweep", description = "full and LoRA q,v at 2m, base, 25m and 50m: table and charts in --out")
  boolean sweep;

  @Option(names = "--profile", description = "where a training step's time goes (libtorch profiler), retain and PyTorch; full and lora_qv unless --cases names others")
  boolean profile;

  @Option(names = "--check-peer", description = "start the peer from retain's weights and compare the losses step by step")
  boolean checkPeer;

  @Option(names = "--out", description = "folder for the JSON, markdown and charts (default: print only; --sweep: target/bench-out)")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (threads == null) {
      threads = smoke ? 1 : 2;
    }
    if (steps < 1 || warmup < 0 || batch < 1 || seq < 2 || threads < 1 || repeats < 1 || loraR < 1 || genTokens < 1
        || genPrompt < 1) {
      throw new Errors.UserException("--steps, --batch, --threads, --repeats, --lora-r, --gen-* must be >= 1, --seq >= 2, --warmup >= 0");
    }
    if (!(targetShare > 0 && targetShare <= 1)) {
      throw new Errors.UserException("--target-share must be in (0, 1], got " + targetShare);
    }
    if (!List.of("auto", "on", "off").contains(peer)) {
      throw new Errors.UserException("--peer must be auto, on or off, got '" + peer + "'");
    }
    Workload.Settings s = Workload.Settings.defaults().withShape(batch, seq).withSteps(steps, warmup)
        .withGeneration(genPrompt, genTokens).withLoraR(loraR).withTargetShare(targetShare);
    String spec = model;
    boolean fork = !inProcess;
    boolean matmul = true;
    if (smoke) {
      spec = model.equals("base") ? "tiny" : model;
      s = s.withShape(2, 16).withSteps(2, 1).withGeneration(4, 4);
      fork = false;
      matmul = false;
      repeats = 1;
    }
    boolean runPeer = peer.equals("on") || (peer.equals("auto") && !smoke);
    List<BenchCase> which = new ArrayList<>();
    if (cases == null || cases.isEmpty()) {
      which.addAll(BenchCase.all());
    } else {
      for (String c : cases) {
        which.add(BenchCase.of(c));
      }
    }
    List<String> bfloat16Cases = which.stream().filter(c -> c == BenchCase.LORA_KD_BF16 || c.bfloat16Base())
        .map(c -> c.id).toList();
    if (!bfloat16Cases.isEmpty() && !dev.retain.tensor.Bfloat16.nativeOnThisCpu()) {
      System.err.println("warning: " + String.join(" and ", bfloat16Cases) + " run matmuls in bfloat16, but "
          + dev.retain.tensor.Bfloat16.NOT_NATIVE);
    }
    String py = python != null ? python : Runner.defaultPython();
    Path script = peerScript != null ? peerScript : Runner.defaultPeerScript();

    if (sweep) {
      Path dir = out != null ? out : Path.of("target", "bench-out");
      Sweep.run(s, threads, fork, javaOpts, py, script, runPeer, peer.equals("on"), ompWaitPolicy, env, repeats, dir, System.out);
      return 0;
    }
    ModelConfig config = BenchModels.resolve(spec);
    Runner.Setup setup = new Runner.Setup(spec, config, s, threads, fork, javaOpts, py, script, matmul, ompWaitPolicy, env,
        System.err);
    Runner runner = new Runner(setup);
    if (peer.equals("on") && runner.peerProblem() != null) {
      throw new Errors.UserException("--peer on: " + runner.peerProblem());
    }
    if (checkPeer) {
      if (runner.peerProblem() != null) {
        throw new Errors.UserException("--check-peer: " + runner.peerProblem());
      }
      double worst = dev.retain.bench.PeerCheck.run(setup, runner, System.out);
      System.out.printf(java.util.Locale.ROOT, "largest relative loss difference: %.2e%n", worst);
      return worst < 1e-3 ? 0 : 1;
    }
    if (profile) {
      List<BenchCase> profiled = cases == null || cases.isEmpty() ? Profile.DEFAULT_CASES : which;
      for (BenchCase c : profiled) {
        if (!c.training) {
          throw new Errors.UserException("--profile times the phases of a training step; '" + c.id
              + "' is not a training case (use one of " + String.join(", ",
              BenchCase.all().stream().filter(k -> k.training).map(k -> k.id).toList()) + ")");
        }
      }
      Profile.run(setup, runner, profiled, runPeer, out, System.out);
      return 0;
    }
    Bench.Report rep = Bench.run(runner, setup, which, repeats, runPeer, System.err);
    String text = rep.format();
    System.out.println();
    System.out.print(text);
    if (out != null) {
      Files.createDirectories(out);
      String label = BenchModels.label(spec);
      Files.writeString(out.resolve("bench-" + label + ".md"), "```\n" + text + "```\n");
      Json.PRETTY.writeValue(out.resolve("bench-" + label + ".json").toFile(), rep.runs);
      System.out.println("wrote " + out.resolve("bench-" + label + ".md") + " and .json");
    }
    return 0;
  }
}
