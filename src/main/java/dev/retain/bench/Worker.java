package dev.retain.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.ModelConfig;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.util.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one benchmark case in a fresh JVM, so that its peak resident memory (VmHWM) is its own, and
 * prints the result as one JSON line prefixed with {@link #PREFIX} on stdout. Started by
 * {@link Bench}; also callable in-process ({@link #measure}) for smoke runs.
 *
 * <pre>
 *   java -cp ... dev.retain.bench.Worker CASE MODEL BATCH SEQ STEPS WARMUP SEED LORA_R GEN_PROMPT GEN_TOKENS
 * </pre>
 */
public final class Worker {
  public static final String PREFIX = "RETAIN_BENCH_RESULT ";

  private Worker() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 11 && args.length != 12) {
      System.err.println("usage: Worker CASE MODEL BATCH SEQ STEPS WARMUP SEED LORA_R GEN_PROMPT GEN_TOKENS TARGET_SHARE [PROFILE_OUT]");
      System.exit(2);
    }
    BenchCase kase = BenchCase.of(args[0]);
    String model = args[1];
    Workload.Settings d = Workload.Settings.defaults();
    Workload.Settings s = new Workload.Settings(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
        Integer.parseInt(args[4]), Integer.parseInt(args[5]), Long.parseLong(args[6]), Integer.parseInt(args[7]),
        d.loraAlpha(), Integer.parseInt(args[8]), Integer.parseInt(args[9]), d.lr(), d.ewcLambda(), d.kdWeight(),
        d.kdTemperature(), Double.parseDouble(args[10]));
    CaseResult r = measure(kase, model, BenchModels.resolve(model), s, true, args.length == 12 ? args[11] : null);
    System.out.println(PREFIX + Json.MAPPER.writeValueAsString(r));
    System.out.flush();
    System.exit(0);
  }

  /** Resident memory after the engine started and ran one small op: the JVM + libtorch floor. */
  static long baselineRss() {
    try (NDManager m = Backend.newManager()) {
      NDArray a = m.ones(new Shape(64, 64));
      a.matMul(a).close();
    }
    return ProcStatus.rss();
  }

  /**
   * Builds the case, measures the matmul peak, runs warm-up then timed units and reads the memory.
   *
   * @param matmul whether to measure the matmul peak first (skipped by smoke runs)
   */
  public static CaseResult measure(BenchCase kase, String modelSpec, ModelConfig config, Workload.Settings s, boolean matmul) {
    return measure(kase, modelSpec, config, s, matmul, null);
  }

  /** As {@link #measure(BenchCase, String, ModelConfig, Workload.Settings, boolean)}; with a path, one more unit runs under libtorch's profiler and its chrome trace is written there. */
  public static CaseResult measure(BenchCase kase, String modelSpec, ModelConfig config, Workload.Settings s, boolean matmul,
      String profileOut) {
    long baseline = baselineRss();
    double gflops = matmul ? MatmulPeak.gflops(1024, 15) : Double.NaN;
    try (Workload w = new Workload(kase, config, s)) {
      long built = ProcStatus.rss();
      for (int i = 0; i < s.warmup(); i++) {
        w.run();
      }
      List<Double> times = new ArrayList<>();
      Map<String, List<Double>> phases = new LinkedHashMap<>();
      long faults0 = ProcStatus.minorFaults();
      for (int i = 0; i < s.steps(); i++) {
        long t0 = System.nanoTime();
        w.run();
        times.add((System.nanoTime() - t0) / 1e9);
        w.lastPhases().forEach((k, v) -> phases.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
      }
      double faults = (ProcStatus.minorFaults() - faults0) / (double) s.steps();
      if (profileOut != null) {
        ai.djl.pytorch.jni.JniUtils.startProfile(false, true, false);
        try {
          for (int i = 0; i < Profile.UNITS; i++) {
            w.run();
          }
        } finally {
          ai.djl.pytorch.jni.JniUtils.stopProfile(profileOut);
        }
      }
      Map<String, Double> phaseMedians = new LinkedHashMap<>();
      phases.forEach((k, v) -> phaseMedians.put(k, CaseResult.median(v)));
      long gradBytes = 0;
      for (Parameter p : w.trainable().values()) {
        gradBytes += p.numel() * 4;
      }
      return new CaseResult("retain", kase.id, BenchModels.label(modelSpec), s.batch(), s.seq(), threads(),
          w.totalParams(), w.trainableParams(), times.stream().mapToDouble(Double::doubleValue).toArray(),
          w.tokensPerRun(), ProcStatus.peakRss(), baseline, built, gflops, w.optimizerStateBytes(), gradBytes,
          w.firstLoss(), w.lastLoss(), "DJL " + ai.djl.engine.Engine.getDjlVersion() + ", libtorch "
          + Backend.engine().getVersion(), phaseMedians.isEmpty() ? null : phaseMedians, faults);
    }
  }

  static int threads() {
    try {
      return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return -1;
    }
  }
}
