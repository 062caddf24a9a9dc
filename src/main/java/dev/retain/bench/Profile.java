package dev.retain.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.util.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a training step's time goes, for retain and the PyTorch peer side by side:
 *
 * <ol>
 *   <li>the step's phases (inputs, forward, loss, backward, clip, AdamW, zero_grad, closing the
 *       step's scope), wall clock, median over the timed steps, without the profiler;
 *   <li>three more steps under the engine's own profiler (libtorch's, reached through DJL's
 *       JniUtils.startProfile; torch.autograd.profiler in the peer), its operators' self time grouped
 *       into matmul, elementwise, softmax, reductions, copies/layout, views and the rest; and the
 *       time outside every operator (Java, JNI crossings, DJL's handle bookkeeping; Python for the
 *       peer), which is the step's wall time minus the top-level operators' time.
 * </ol>
 */
public final class Profile {
  private Profile() {}

  /** Units run under the profiler; the numbers printed are per unit (totals / UNITS). */
  public static final int UNITS = 3;

  static final Set<String> MATMUL = Set.of("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul",
      "aten::linear", "aten::addbmm", "aten::_mkldnn_matmul", "aten::mkldnn_linear");
  static final Set<String> SOFTMAX = Set.of("aten::_softmax", "aten::_log_softmax", "aten::_softmax_backward_data",
      "aten::_log_softmax_backward_data", "aten::softmax", "aten::log_softmax");
  static final Set<String> REDUCE = Set.of("aten::sum", "aten::mean", "aten::norm", "aten::linalg_vector_norm", "aten::max",
      "aten::min", "aten::amax", "aten::stack", "aten::_foreach_norm");
  static final Set<String> COPY = Set.of("aten::copy_", "aten::cat", "aten::clone", "aten::contiguous", "aten::_to_copy",
      "aten::to", "aten::fill_", "aten::zero_", "aten::zeros", "aten::zeros_like", "aten::empty", "aten::empty_like",
      "aten::empty_strided", "aten::new_zeros", "aten::new_empty", "aten::new_empty_strided", "aten::ones_like",
      "aten::full", "aten::gather", "aten::scatter", "aten::scatter_", "aten::scatter_add_", "aten::index",
      "aten::index_select", "aten::embedding", "aten::embedding_dense_backward", "aten::embedding_backward",
      "aten::repeat", "aten::resize_", "aten::detach_", "aten::_cat", "aten::index_put_", "aten::masked_fill_",
      "aten::set_", "aten::result_type", "aten::item", "aten::_local_scalar_dense", "aten::lift_fresh",
      "aten::scalar_tensor", "aten::ones", "aten::arange", "aten::tensor", "aten::from_blob");
  static final Set<String> VIEW = Set.of("aten::view", "aten::reshape", "aten::_reshape_alias", "aten::_unsafe_view",
      "aten::transpose", "aten::permute", "aten::expand", "aten::as_strided", "aten::select", "aten::slice",
      "aten::squeeze", "aten::unsqueeze", "aten::t", "aten::split", "aten::split_with_sizes", "aten::narrow",
      "aten::alias", "aten::detach", "aten::numpy_T", "aten::unbind", "aten::chunk", "aten::expand_as",
      "aten::view_as", "aten::squeeze_", "aten::unsqueeze_", "aten::flatten", "aten::reshape_as");

  /** The category of an operator by name. */
  public static String category(String op) {
    if (MATMUL.contains(op)) {
      return "matmul";
    }
    if (SOFTMAX.contains(op)) {
      return "softmax";
    }
    if (REDUCE.contains(op)) {
      return "reductions";
    }
    if (COPY.contains(op)) {
      return "copies/alloc";
    }
    if (VIEW.contains(op)) {
      return "views";
    }
    if (op.startsWith("aten::") || op.startsWith("aten::_foreach")) {
      return "elementwise";
    }
    return "autograd/other";
  }

  static final List<String> CATEGORIES = List.of("matmul", "elementwise", "softmax", "reductions", "copies/alloc",
      "views", "autograd/other");

  /** Aggregated operator times of one trace (microseconds). */
  public record TraceStats(Map<String, Double> byCategory, Map<String, Double> byOp, Map<String, Integer> calls,
                           double topLevelMicros, int topLevelOps, double spanMicros) {
    public double total() {
      return byCategory.values().stream().mapToDouble(Double::doubleValue).sum();
    }
  }

  /** Reads a chrome trace (a bare event list, as DJL writes, or {"traceEvents": [...]}) and sums self times. */
  public static TraceStats read(Path trace) throws IOException {
    JsonNode root = Json.MAPPER.readTree(trace.toFile());
    JsonNode events = root.isArray() ? root : root.path("traceEvents");
    record Ev(String name, double ts, double dur, String tid) {}
    Map<String, List<Ev>> byThread = new LinkedHashMap<>();
    for (JsonNode e : events) {
      if (!"X".equals(e.path("ph").asText())) {
        continue;
      }
      String cat = e.path("cat").asText("");
      if (!cat.isEmpty() && !cat.equals("cpu_op") && !cat.equalsIgnoreCase("operator")) {
        continue;
      }
      String tid = e.path("pid").asText() + "/" + e.path("tid").asText();
      byThread.computeIfAbsent(tid, k -> new ArrayList<>()).add(new Ev(e.path("name").asText(), e.path("ts").asDouble(),
          e.path("dur").asDouble(), tid));
    }
    Map<String, Double> self = new LinkedHashMap<>();
    Map<String, Integer> calls = new LinkedHashMap<>();
    double top = 0;
    int topOps = 0;
    double first = Double.MAX_VALUE;
    double last = 0;
    for (List<Ev> evs : byThread.values()) {
      evs.sort(Comparator.comparingDouble(Ev::ts).thenComparing(Comparator.comparingDouble(Ev::dur).reversed()));
      double[] child = new double[evs.size()];
      int[] stack = new int[evs.size()];
      int sp = 0;
      for (int i = 0; i < evs.size(); i++) {
        Ev e = evs.get(i);
        while (sp > 0 && evs.get(stack[sp - 1]).ts() + evs.get(stack[sp - 1]).dur() <= e.ts() + 1e-6) {
          sp--;
        }
        if (sp > 0) {
          child[stack[sp - 1]] += e.dur();
        } else {
          top += e.dur();
          topOps++;
        }
        stack[sp++] = i;
        first = Math.min(first, e.ts());
        last = Math.max(last, e.ts() + e.dur());
      }
      for (int i = 0; i < evs.size(); i++) {
        Ev e = evs.get(i);
        self.merge(e.name(), Math.max(0, e.dur() - child[i]), Double::sum);
        calls.merge(e.name(), 1, Integer::sum);
      }
    }
    Map<String, Double> cats = new LinkedHashMap<>();
    CATEGORIES.forEach(c -> cats.put(c, 0.0));
    self.forEach((op, us) -> cats.merge(category(op), us, Double::sum));
    double n = UNITS;
    cats.replaceAll((k, v) -> v / n);
    self.replaceAll((k, v) -> v / n);
    calls.replaceAll((k, v) -> (int) Math.round(v / n));
    return new TraceStats(cats, self, calls, top / n, (int) Math.round(topOps / n), last > first ? (last - first) / n : 0);
  }

  /** The training cases profiled when none are named: full fine-tuning and LoRA q,v. */
  public static final List<BenchCase> DEFAULT_CASES = List.of(BenchCase.FULL, BenchCase.LORA_QV);

  /** Profiles the training steps of {@code cases} on the setup's model; prints the comparison. */
  public static void run(Runner.Setup setup, Runner runner, List<BenchCase> cases, boolean peer, Path out, PrintStream print)
      throws IOException, InterruptedException {
    Path dir = out != null ? out : Files.createTempDirectory("retain-profile");
    Files.createDirectories(dir);
    String label = BenchModels.label(setup.modelSpec());
    print.printf(Locale.ROOT, "profile: model %s, batch %d x seq %d, %d thread(s); load average %s%n", label,
        setup.settings().batch(), setup.settings().seq(), setup.threads(), Bench.loadAverage());
    for (BenchCase c : cases) {
      Path rt = dir.resolve("trace-" + label + "-" + c.id + "-retain.json");
      Path pt = dir.resolve("trace-" + label + "-" + c.id + "-pytorch.json");
      CaseResult r = runner.retain(c, rt);
      CaseResult p = peer ? runner.peer(c, pt) : null;
      print.println();
      print.print(format(c, r, read(rt), p, p == null ? null : read(pt)));
    }
    print.println("traces: " + dir);
  }

  /** The side-by-side text of one case. */
  public static String format(BenchCase c, CaseResult r, TraceStats rs, CaseResult p, TraceStats ps) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s: step %.0f ms retain%s%n", c.title, 1000 * r.medianSeconds(),
        p == null ? "" : String.format(Locale.ROOT, ", %.0f ms PyTorch", 1000 * p.medianSeconds())));
    sb.append("  phases (median ms, no profiler)      retain    PyTorch\n");
    Set<String> names = new LinkedHashSet<>();
    if (r.phases() != null) {
      names.addAll(r.phases().keySet());
    }
    if (p != null && p.phases() != null) {
      names.addAll(p.phases().keySet());
    }
    for (String n : names) {
      sb.append(String.format(Locale.ROOT, "    %-32s %8s %10s%n", n, ms(r.phases(), n), p == null ? "" : ms(p.phases(), n)));
    }
    sb.append(String.format(Locale.ROOT, "    %-32s %8.0f %10s%n", "minor page faults per step", r.minorFaultsPerUnit(),
        p == null ? "" : String.format(Locale.ROOT, "%.0f", p.minorFaultsPerUnit())));
    sb.append("  operators under the profiler (mean of " + UNITS + " steps, self time)\n");
    sb.append(String.format(Locale.ROOT, "    %-32s %15s %17s%n", "", "retain ms (%)", "PyTorch ms (%)"));
    double rWall = rs.spanMicros();
    double pWall = ps == null ? 0 : ps.spanMicros();
    for (String cat : CATEGORIES) {
      sb.append(String.format(Locale.ROOT, "    %-32s %15s %17s%n", cat, share(rs.byCategory().get(cat), rWall),
          ps == null ? "" : share(ps.byCategory().get(cat), pWall)));
    }
    sb.append(String.format(Locale.ROOT, "    %-32s %15s %17s%n", "outside operators (host code)",
        share(rWall - rs.topLevelMicros(), rWall), ps == null ? "" : share(pWall - ps.topLevelMicros(), pWall)));
    sb.append(String.format(Locale.ROOT, "    %-32s %15s %17s%n", "profiled step", share(rWall, rWall),
        ps == null ? "" : share(pWall, pWall)));
    sb.append(String.format(Locale.ROOT, "    %-32s %15d %17s%n", "top-level operator calls", rs.topLevelOps(),
        ps == null ? "" : Integer.toString(ps.topLevelOps())));
    sb.append("  top operators by self time (retain)\n");
    rs.byOp().entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(10)
        .forEach(e -> sb.append(String.format(Locale.ROOT, "    %-40s %9.1f ms %6d calls%s%n", e.getKey(), e.getValue() / 1000,
            rs.calls().get(e.getKey()), ps == null || !ps.byOp().containsKey(e.getKey()) ? ""
                : String.format(Locale.ROOT, "   (PyTorch %.1f ms, %d calls)", ps.byOp().get(e.getKey()) / 1000,
                    ps.calls().get(e.getKey())))));
    return sb.toString();
  }

  private static String ms(Map<String, Double> m, String k) {
    return m == null || !m.containsKey(k) ? "-" : String.format(Locale.ROOT, "%.1f", 1000 * m.get(k));
  }

  private static String share(double micros, double wall) {
    return String.format(Locale.ROOT, "%.1f (%.0f%%)", micros / 1000, wall > 0 ? 100 * micros / wall : 0);
  }
}
