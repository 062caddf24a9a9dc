package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Grads;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Synaptic Intelligence (Zenke, Poole and Ganguli 2017, "Continual learning through synaptic
 * intelligence", ICML).
 *
 * <pre>
 *   along the training path:  omega_i += -g_i * delta_theta_i            (every optimizer step)
 *   at consolidation:         Omega_i  = Omega_prev_i + omega_i / (Delta_i^2 + xi)
 *                             Delta_i  = theta_i(end of the task) - theta*_i(start of the task)
 *   penalty:                  c * sum_i Omega_i (theta_i - theta*_i)^2
 * </pre>
 *
 * <h2>When Omega is consolidated</h2>
 *
 * The penalty of a run uses the Omega consolidated <em>before</em> it ({@code previous}: from an
 * earlier task or run, loaded from an importance file, or an Omega/Fisher estimated on general data);
 * it stays fixed during the run. With no previous Omega the penalty is zero, as for the first task in
 * the paper. Meanwhile the term accumulates this run's path integral omega; at the end of the run
 * (or of a task) {@link #consolidated} gives Omega_prev + omega / (Delta^2 + xi), with Delta measured
 * from this run's starting weights, in the same {@link Importance} file format ({@code retain.kind =
 * si}): save it and pass it as {@code previous} to the next run. {@link #consolidateAndReanchor} does
 * the same inside one process (the penalty switches to the new Omega, theta* moves to the current
 * weights, omega restarts at zero).
 *
 * <h2>Which gradient</h2>
 *
 * g is the gradient of the step's training loss that the trainer back-propagated (cross-entropy plus
 * the other terms, e.g. EWC or distillation, averaged over the micro-batches as the trainer does),
 * read after backward and before clipping, <em>minus the gradient of this term's own penalty</em>
 * (2 c Omega (theta - theta*), known in closed form and removed exactly), so that omega measures the
 * contribution of each weight to lowering the task objective, not to satisfying the regulariser.
 * (This assumes the trainer's convention of adding each term scaled by 1/grad_accum per micro-batch.)
 * delta_theta is the actual change the optimizer made (AdamW, weight decay and clipping included):
 * theta is recorded after the first backward of a step and again after the optimizer step.
 *
 * <h2>What it covers</h2>
 *
 * The path integral runs over trainable parameters that have gradients of their own (base weights in
 * full or staged fine-tuning, bottleneck adapters). LoRA's A and B are skipped: their coordinates mean
 * nothing outside this adapter, and the gradient w.r.t. the effective weight is not available. The
 * penalty, like EWC's, applies Omega of a base weight to its effective drift, including a LoRA
 * adapter's {@code deltaWeight()} (see {@link Anchors}).
 *
 * <p>omega of a weight can be negative (where the path went uphill, e.g. noise or momentum); Omega is
 * kept exactly as defined, sign included.
 *
 * <p>{@link #state}/{@link #restore} carry omega through checkpoints, so a resumed run continues the
 * path integral exactly (checkpoints are written between steps, when nothing else is pending).
 */
public final class SynapticIntelligence implements LossTerm, AutoCloseable {
  public static final String DEFINITION = "Synaptic Intelligence: Omega_i = Omega_prev_i + omega_i / (Delta_i^2 + xi), "
      + "omega_i = sum over steps of -g_i * delta_theta_i, Delta_i = theta_i(end) - theta_i(start)";

  private final Anchors anchors;
  private final double c;
  private final double xi;
  private Importance previous;
  private final Map<String, NDArray> previousT = new LinkedHashMap<>();
  private final Map<String, NDArray> omega = new LinkedHashMap<>();
  private final Map<String, NDArray> grad = new LinkedHashMap<>();
  private final Map<String, NDArray> before = new LinkedHashMap<>();
  private boolean penaltyThisStep;
  private long steps;

  /**
   * @param model the model being trained (create the term before training starts)
   * @param c penalty strength, >= 0
   * @param xi damping of the consolidation, > 0 (the paper uses 1e-3 to 0.1)
   * @param previous Omega consolidated before this run (keyed by parameter name), or null for none
   */
  public SynapticIntelligence(CausalLM model, double c, double xi, Importance previous) {
    this(new Anchors(model), c, xi, previous);
  }

  SynapticIntelligence(Anchors anchors, double c, double xi, Importance previous) {
    if (!(c >= 0) || Double.isInfinite(c)) {
      throw new IllegalArgumentException("SI c must be a finite number >= 0, got " + c);
    }
    if (!(xi > 0) || Double.isInfinite(xi)) {
      throw new IllegalArgumentException("SI xi must be a finite number > 0, got " + xi);
    }
    if (previous != null) {
      previous.checkAgainst(anchors.parameters(), "SI importance (" + previous + ")");
    }
    this.anchors = anchors;
    this.c = c;
    this.xi = xi;
    this.previous = previous;
  }

  @Override
  public String name() {
    return "si";
  }

  @Override
  public NDArray loss(StepContext ctx) {
    penaltyThisStep = true;
    return anchors.weightedSquaredDrift(this::previousTensor).mul(Consts.of((float) c));
  }

  private NDArray previousTensor(String name) {
    if (previous == null || !previous.contains(name)) {
      return null;
    }
    return previousT.computeIfAbsent(name, n -> previous.tensor(anchors.manager(), n));
  }

  @Override
  public void onTrainableChanged(Set<String> trainable) {
    anchors.refresh();
    anchors.snapshotTrainable(n -> true);
  }

  @Override
  public void afterBackward(StepContext ctx) {
    anchors.refresh();
    NoGrad.run(() -> {
      for (String n : anchors.directNames()) {
        Parameter p = anchors.parameters().get(n);
        NDArray g = Grads.of(p.data());
        if (g == null) {
          continue;
        }
        anchors.anchor(n);
        if (!before.containsKey(n)) {
          before.put(n, Anchors.frozenCopy(p.data()));
        }
        NDArray task = g;
        NDArray om = previousTensor(n);
        if (om != null && penaltyThisStep) {
          NDArray d = anchors.drift(n);
          task = g.sub(om.mul(d).mul(Consts.of((float) (2 * c))));
        }
        NDArray old = grad.put(n, Anchors.frozenCopy(task));
        if (old != null) {
          old.close();
        }
      }
    });
  }

  @Override
  public void afterOptimizerStep(StepContext ctx) {
    NoGrad.run(() -> {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        for (Map.Entry<String, NDArray> e : grad.entrySet()) {
          String n = e.getKey();
          Parameter p = anchors.parameters().get(n);
          NDArray delta = p.data().stopGradient().sub(before.get(n));
          omegaOf(n).subi(e.getValue().mul(delta));
        }
      }
      grad.values().forEach(NDArray::close);
      grad.clear();
      before.values().forEach(NDArray::close);
      before.clear();
    });
    penaltyThisStep = false;
    steps++;
  }

  private NDArray omegaOf(String n) {
    NDArray om = omega.get(n);
    if (om == null) {
      NDManager m = anchors.manager();
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        om = m.zeros(anchors.parameters().get(n).data().getShape());
        NDScope.unregister(om);
      }
      omega.put(n, om);
    }
    return om;
  }

  /** This run's path integral omega so far, by parameter name (copies). */
  public Map<String, float[]> omega() {
    Map<String, float[]> out = new LinkedHashMap<>();
    omega.forEach((n, v) -> out.put(n, v.toFloatArray()));
    return out;
  }

  /**
   * Omega_prev + omega / (Delta^2 + xi), Delta = current weights - this run's starting weights, for
   * every weight with a path integral; other entries of Omega_prev are kept. Does not change the term.
   */
  public Importance consolidated() {
    Map<String, float[]> values = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    if (previous != null) {
      for (String n : previous.names()) {
        values.put(n, previous.values(n).clone());
        shapes.put(n, previous.shape(n));
      }
    }
    for (Map.Entry<String, NDArray> e : omega.entrySet()) {
      String n = e.getKey();
      float[] w = e.getValue().toFloatArray();
      float[] now = anchors.parameters().get(n).data().toFloatArray();
      float[] start = anchors.anchor(n).toFloatArray();
      float[] out = values.computeIfAbsent(n, k -> new float[w.length]);
      for (int i = 0; i < w.length; i++) {
        double d = (double) now[i] - start[i];
        out[i] = (float) (out[i] + w[i] / (d * d + xi));
      }
      shapes.put(n, e.getValue().getShape().getShape());
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put(Importance.KIND, Importance.SI);
    meta.put(Importance.DEFINITION, DEFINITION);
    meta.put("retain.xi", Double.toString(xi));
    long before = previous == null ? 0 : parseLong(previous.metadata().get("retain.steps"));
    meta.put("retain.steps", Long.toString(before + steps));
    return new Importance(values, shapes, meta);
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Ends a task inside one process: the penalty now uses {@link #consolidated}'s Omega, theta* moves to
   * the current weights and omega restarts at zero. Returns the new Omega.
   */
  public Importance consolidateAndReanchor() {
    Importance next = consolidated();
    previous = next;
    previousT.values().forEach(NDArray::close);
    previousT.clear();
    omega.values().forEach(NDArray::close);
    omega.clear();
    steps = 0;
    anchors.reanchor();
    return next;
  }

  /** The Omega the penalty uses (null when none). */
  public Importance previous() {
    return previous;
  }

  public double c() {
    return c;
  }

  public double xi() {
    return xi;
  }

  @Override
  public Map<String, float[]> state() {
    Map<String, float[]> s = new LinkedHashMap<>();
    omega.forEach((n, v) -> s.put("omega." + n, v.toFloatArray()));
    // Two exact floats (24-bit halves), so the count survives a float32 checkpoint.
    s.put("steps", new float[] {(float) (steps >>> 24), (float) (steps & 0xffffff)});
    return s;
  }

  @Override
  public void restore(Map<String, float[]> state) {
    omega.values().forEach(NDArray::close);
    omega.clear();
    for (Map.Entry<String, float[]> e : state.entrySet()) {
      String k = e.getKey();
      if (k.equals("steps")) {
        float[] v = e.getValue();
        steps = ((long) v[0] << 24) + (long) v[1];
        continue;
      }
      if (!k.startsWith("omega.")) {
        throw new IllegalArgumentException("SI checkpoint state has an unknown entry '" + k + "'");
      }
      String n = k.substring("omega.".length());
      Parameter p = anchors.parameters().get(n);
      if (p == null) {
        throw new IllegalArgumentException("SI checkpoint state has omega for '" + n + "' which the model does not have");
      }
      long[] shape = p.data().getShape().getShape();
      if (p.numel() != e.getValue().length) {
        throw new IllegalArgumentException("SI checkpoint state: omega of '" + n + "' has " + e.getValue().length
            + " values, the parameter " + Arrays.toString(shape));
      }
      NDArray om = omegaOf(n);
      om.set(e.getValue());
    }
  }

  @Override
  public String describe() {
    return String.format("SI c=%g xi=%g (%s)", c, xi, previous == null
        ? "no previous Omega: penalty 0 this run, path integral accumulated"
        : "Omega from " + previous.kind() + ", " + previous.names().size() + " tensors");
  }

  /** Names with a path integral (for tests). */
  List<String> tracked() {
    return List.copyOf(omega.keySet());
  }

  @Override
  public void close() {
    for (Map<String, NDArray> m : List.of(previousT, omega, grad, before)) {
      m.values().forEach(NDArray::close);
      m.clear();
    }
    anchors.close();
  }
}
