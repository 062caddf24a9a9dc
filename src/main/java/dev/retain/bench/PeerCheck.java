package dev.retain.bench;

import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Evidence that the peer does the same work as retain: retain builds a case, writes its starting
 * weights (LoRA A and B included), runs the warm-up and timed units and records each loss; the peer
 * starts from those weights ({@code --init-from}) with the same data and reports its losses. With the
 * same model, loss, LoRA formula, clipping and AdamW the two sequences agree to float32 rounding;
 * LoRA on a bfloat16 base (with or without distillation), where both sides round the same products
 * to bfloat16 with different kernels, to about 1e-5. (full + EWC is left out: its Fisher values are
 * drawn independently on each side; generation has no loss; LoRA + distillation with a bfloat16
 * teacher rounds different operations on each side: retain its linear layers, PyTorch's autocast
 * also the attention's matmuls.)
 */
public final class PeerCheck {
  private PeerCheck() {}

  /** Cases whose losses can be compared. */
  public static final List<BenchCase> CASES = List.of(BenchCase.FULL, BenchCase.LORA_QV, BenchCase.LORA_QV_BF16,
      BenchCase.LORA_ALL, BenchCase.LORA_KD, BenchCase.LORA_KD_BF16_BASE, BenchCase.FULL_KD, BenchCase.EVAL);

  /** Largest relative loss difference per case; prints one line per case. */
  public static double run(Runner.Setup setup, Runner runner, PrintStream out) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("retain-peer-check");
    double worst = 0;
    try {
      for (BenchCase c : CASES) {
        Path file = dir.resolve(c.id + ".safetensors");
        List<Double> mine = new ArrayList<>();
        try (Workload w = new Workload(c, setup.config(), setup.settings())) {
          SafetensorsWriter sw = new SafetensorsWriter();
          for (Map.Entry<String, Parameter> e : w.model().allParameters().entrySet()) {
            Parameter p = e.getValue();
            sw.addFloats(e.getKey(), DType.F32, p.data().getShape().getShape(), p.data().toFloatArray());
          }
          sw.write(file);
          for (int i = 0; i < setup.settings().warmup() + setup.settings().steps(); i++) {
            w.run();
            mine.add((double) w.lastLoss());
          }
        }
        double[] theirs = runner.peerLosses(c, file);
        double max = 0;
        for (int i = 0; i < Math.min(mine.size(), theirs.length); i++) {
          max = Math.max(max, Math.abs(mine.get(i) - theirs[i]) / Math.max(1e-12, Math.abs(theirs[i])));
        }
        if (theirs.length != mine.size()) {
          max = Double.POSITIVE_INFINITY;
        }
        worst = Math.max(worst, max);
        out.printf(Locale.ROOT, "%-40s losses retain %s%n%-40s        PyTorch %s  max relative difference %.2e%n", c.title,
            fmt(mine.stream().mapToDouble(Double::doubleValue).toArray()), "", fmt(theirs), max);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
    return worst;
  }

  private static String fmt(double[] v) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", v[i]));
    }
    return sb.append(']').toString();
  }
}
