package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.retain.data.Example;
import dev.retain.model.CausalLM;
import dev.retain.model.PackedInputs;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsException;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.model.safetensors.TensorInfo;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * Per-parameter importance of a model's weights, keyed by parameter name: the diagonal Fisher of EWC
 * or the consolidated Omega of Synaptic Intelligence. Immutable; saved as one safetensors file
 * (F32 tensors named like the model's parameters, plus {@code __metadata__}) and reusable across runs.
 *
 * <h2>Fisher (EWC; Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks")</h2>
 *
 * {@link #fisher} computes the diagonal empirical Fisher at the current weights theta*:
 *
 * <pre>
 *   F_i = (1/N) sum_{n=1..N} ( d log p(x_n | theta*) / d theta_i )^2
 *   log p(x | theta) = sum over the target tokens t of x of log p(x_t | x_&lt;t; theta)
 * </pre>
 *
 * <p><b>Decision: a sample is a sequence.</b> The expectation runs over sequences (documents), not
 * tokens: log p(x) is the log-probability of the whole sequence (the sum of its target tokens'
 * log-probabilities, the same tokens the training loss uses), and each sequence gets its own backward
 * pass (batch size 1), so the squared per-sample gradient is exact, not the square of a batch mean.
 * The Fisher therefore grows with sequence length (the gradient of a sum): estimate it with a
 * sequence length comparable to training's, and choose lambda for that scale. "Empirical": x are the data's
 * tokens, not samples from the model.
 *
 * <p>By default the gradients are taken with every adapter switched off (the base model) for every
 * base parameter; {@link FisherOptions} can name fewer parameters or keep adapters on (the Fisher at
 * the adapted model, gradients still w.r.t. the base weights, i.e. w.r.t. the merged weights).
 *
 * <h2>Online EWC (Schwarz et al. 2018, "Progress &amp; Compress")</h2>
 *
 * {@link #online}: F &lt;- gamma F + F_new, element-wise, for the parameters of either (a missing
 * entry counts as zero).
 *
 * <h2>File</h2>
 *
 * Metadata keys: {@code retain.kind} ({@value #FISHER} or {@value #SI}), {@code retain.definition}
 * (the formula in words), {@code retain.samples} (sequences, Fisher), {@code retain.target_tokens},
 * {@code retain.model}, {@code retain.adapters} (off/on), {@code retain.online} (merge history); SI
 * adds {@code retain.xi} and {@code retain.steps}.
 */
public final class Importance {
  public static final String FISHER = "fisher";
  public static final String SI = "si";
  public static final String KIND = "retain.kind";
  public static final String DEFINITION = "retain.definition";
  public static final String SAMPLES = "retain.samples";
  public static final String FISHER_DEFINITION = "diagonal empirical Fisher per sequence: F_i = mean over N sequences x of "
      + "(d/dtheta_i sum_{t in targets(x)} log p(x_t | x_<t))^2, one backward pass per sequence";

  private final Map<String, float[]> values;
  private final Map<String, long[]> shapes;
  private final Map<String, String> metadata;

  /**
   * @param values flattened float32 values by parameter name (not copied: do not modify)
   * @param shapes the shape of each
   * @param metadata free-form string metadata ({@link #KIND} should be set)
   */
  public Importance(Map<String, float[]> values, Map<String, long[]> shapes, Map<String, String> metadata) {
    if (!values.keySet().equals(shapes.keySet())) {
      throw new IllegalArgumentException("values and shapes name different tensors");
    }
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, long[]> s = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : values.entrySet()) {
      long[] shape = shapes.get(e.getKey()).clone();
      long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      if (n != e.getValue().length) {
        throw new IllegalArgumentException(e.getKey() + ": shape " + Arrays.toString(shape) + " holds " + n
            + " values, got " + e.getValue().length);
      }
      v.put(e.getKey(), e.getValue());
      s.put(e.getKey(), shape);
    }
    this.values = Collections.unmodifiableMap(v);
    this.shapes = Collections.unmodifiableMap(s);
    this.metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
  }

  /** Options of {@link #fisher}. */
  public static final class FisherOptions {
    /** Parameter names to estimate; null for every base parameter ({@link CausalLM#parameters()}). */
    public Set<String> parameters;
    /** Keep the model's adapters on (default off: the base model). */
    public boolean adaptersOn;
    /** Recorded as {@code retain.model} (e.g. the model folder); may be null. */
    public String model;
    /** Called with the number of sequences done after each one; may be null. */
    public IntConsumer progress;

    public FisherOptions parameters(Set<String> names) {
      this.parameters = names;
      return this;
    }

    public FisherOptions adaptersOn(boolean on) {
      this.adaptersOn = on;
      return this;
    }

    public FisherOptions model(String m) {
      this.model = m;
      return this;
    }

    public FisherOptions progress(IntConsumer p) {
      this.progress = p;
      return this;
    }
  }

  /** The Fisher of {@code model} over all of {@code examples}, every base parameter, adapters off. */
  public static Importance fisher(CausalLM model, List<Example> examples) {
    return fisher(model, examples, new FisherOptions());
  }

  /**
   * The diagonal empirical Fisher (per sequence, see the class comment) of {@code model} at its
   * current weights over {@code examples} (all of them: pass a sublist for N). Call it outside a
   * training step (it opens its own gradient collector); the model's trainable flags, adapter
   * switches and (zeroed) gradients are restored afterwards; the weights are not changed.
   */
  public static Importance fisher(CausalLM model, List<Example> examples, FisherOptions opt) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("the Fisher needs at least one example");
    }
    Map<String, Parameter> base = model.parameters();
    Map<String, Parameter> all = model.allParameters();
    Set<String> names = opt.parameters != null ? opt.parameters : base.keySet();
    Map<String, Parameter> wanted = new LinkedHashMap<>();
    for (String n : names) {
      Parameter p = all.get(n);
      if (p == null) {
        throw new IllegalArgumentException("the Fisher was asked for '" + n + "' which the model does not have");
      }
      wanted.put(n, p);
    }
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("the Fisher was asked for no parameter");
    }
    Map<String, Boolean> wasTrainable = new LinkedHashMap<>();
    all.forEach((n, p) -> wasTrainable.put(n, p.trainable()));
    AdapterSwitch adapters = AdapterSwitch.of(model);
    NDManager m = model.manager();
    Map<String, NDArray> sums = new LinkedHashMap<>();
    long tokens = 0;
    try {
      for (Map.Entry<String, Parameter> e : all.entrySet()) {
        boolean on = wanted.containsKey(e.getKey());
        e.getValue().setTrainable(on);
        if (on) {
          zeroGrad(e.getValue());
          NDArray acc = m.zeros(e.getValue().data().getShape());
          NDScope.unregister(acc);
          sums.put(e.getKey(), acc);
        }
      }
      if (!opt.adaptersOn) {
        adapters.allOff();
      }
      int done = 0;
      for (Example ex : examples) {
        tokens += ex.targetCount();
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          try (GradientCollector gc = Backend.engine().newGradientCollector()) {
            NDArray nll = sequenceNll(model, ex);
            gc.backward(nll);
          }
          for (Map.Entry<String, Parameter> e : wanted.entrySet()) {
            NDArray g = Grads.of(e.getValue().data());
            if (g != null) {
              sums.get(e.getKey()).addi(g.mul(g));
              Grads.zero(e.getValue().data());
            }
          }
        }
        done++;
        if (opt.progress != null) {
          opt.progress.accept(done);
        }
      }
      Map<String, float[]> values = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      float inv = 1f / examples.size();
      for (Map.Entry<String, NDArray> e : sums.entrySet()) {
        float[] v = e.getValue().toFloatArray();
        for (int i = 0; i < v.length; i++) {
          v[i] *= inv;
        }
        values.put(e.getKey(), v);
        shapes.put(e.getKey(), e.getValue().getShape().getShape());
      }
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("format", "pt");
      meta.put(KIND, FISHER);
      meta.put(DEFINITION, FISHER_DEFINITION);
      meta.put(SAMPLES, Integer.toString(examples.size()));
      meta.put("retain.target_tokens", Long.toString(tokens));
      meta.put("retain.adapters", opt.adaptersOn ? "on" : "off");
      if (opt.model != null) {
        meta.put("retain.model", opt.model);
      }
      return new Importance(values, shapes, meta);
    } finally {
      sums.values().forEach(NDArray::close);
      adapters.restore();
      for (Map.Entry<String, Parameter> e : all.entrySet()) {
        if (wanted.containsKey(e.getKey())) {
          zeroGrad(e.getValue());
        }
        e.getValue().setTrainable(wasTrainable.get(e.getKey()));
      }
    }
  }

  /**
   * -log p(x) of one sequence: the sum over its target tokens of the next-token cross-entropy, with
   * the sequence as one row (ids[0..n-2] in, ids[1..n-1] predicted where they are targets).
   */
  static NDArray sequenceNll(CausalLM model, Example ex) {
    int n = ex.length() - 1;
    long[] in = new long[n];
    long[] tgt = new long[n];
    for (int t = 0; t < n; t++) {
      in[t] = ex.id(t);
      tgt[t] = ex.isTarget(t + 1) ? ex.id(t + 1) : -1;
    }
    PackedInputs inputs = PackedInputs.of(model.manager(), n, in, null, null, tgt);
    return inputs.loss(model.targetLogits(inputs));
  }

  private static void zeroGrad(Parameter p) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      if (Grads.of(p.data()) != null) {
        Grads.zero(p.data());
      }
    }
  }

  /**
   * Online EWC: gamma * this + newer, element-wise over the union of names (a name in only one of
   * them counts as zero in the other). Metadata: newer's, with {@code retain.online} recording the
   * merge.
   */
  public Importance online(Importance newer, double gamma) {
    if (!(gamma >= 0)) {
      throw new IllegalArgumentException("online EWC gamma must be >= 0, got " + gamma);
    }
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, long[]> s = new LinkedHashMap<>();
    for (String n : values.keySet()) {
      float[] a = values.get(n);
      float[] out = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        out[i] = (float) (gamma * a[i]);
      }
      v.put(n, out);
      s.put(n, shapes.get(n));
    }
    for (String n : newer.values.keySet()) {
      float[] b = newer.values.get(n);
      float[] out = v.get(n);
      if (out == null) {
        v.put(n, b.clone());
        s.put(n, newer.shapes.get(n));
        continue;
      }
      if (!Arrays.equals(s.get(n), newer.shapes.get(n))) {
        throw new IllegalArgumentException("cannot merge importances: '" + n + "' has shape " + Arrays.toString(s.get(n))
            + " in one and " + Arrays.toString(newer.shapes.get(n)) + " in the other (different models?)");
      }
      for (int i = 0; i < b.length; i++) {
        out[i] += b[i];
      }
    }
    Map<String, String> meta = new LinkedHashMap<>(newer.metadata);
    String before = metadata.getOrDefault("retain.online", "");
    meta.put("retain.online", (before.isEmpty() ? "" : "(" + before + "); ") + "F = " + gamma + " * F_old + F_new");
    return new Importance(v, s, meta);
  }

  public Set<String> names() {
    return values.keySet();
  }

  public boolean contains(String name) {
    return values.containsKey(name);
  }

  /** The values of {@code name} (flattened, not copied: do not modify), or null. */
  public float[] values(String name) {
    return values.get(name);
  }

  /** The shape of {@code name}, or null. */
  public long[] shape(String name) {
    long[] s = shapes.get(name);
    return s == null ? null : s.clone();
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** {@value #FISHER}, {@value #SI} or "unknown". */
  public String kind() {
    return metadata.getOrDefault(KIND, "unknown");
  }

  /** Sequences the Fisher was estimated on (0 when not recorded). */
  public int samples() {
    try {
      return Integer.parseInt(metadata.getOrDefault(SAMPLES, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Sum of all values. */
  public double total() {
    double s = 0;
    for (float[] v : values.values()) {
      for (float x : v) {
        s += x;
      }
    }
    return s;
  }

  /** Sum, element count and maximum of a group of tensors. */
  public record Mass(double sum, long numel, double max) {
    public double mean() {
      return numel == 0 ? 0 : sum / numel;
    }
  }

  /**
   * Mass by group: "layer N" for the decoder layers, otherwise the parameter name without
   * {@code model.} and {@code .weight} (embed_tokens, norm, lm_head), in model order.
   */
  public Map<String, Mass> massByGroup() {
    Map<String, Mass> out = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : values.entrySet()) {
      int layer = CausalLM.layerIndex(e.getKey());
      String g = layer >= 0 ? "layer " + layer : e.getKey().replaceFirst("^model\\.", "").replaceFirst("\\.weight$", "");
      double sum = 0;
      double max = 0;
      for (float x : e.getValue()) {
        sum += x;
        max = Math.max(max, x);
      }
      Mass old = out.get(g);
      out.put(g, old == null ? new Mass(sum, e.getValue().length, max)
          : new Mass(old.sum + sum, old.numel + e.getValue().length, Math.max(old.max, max)));
    }
    return out;
  }

  /** Writes the file atomically (F32 tensors by parameter name, metadata). */
  public void save(Path file) throws IOException {
    SafetensorsWriter w = new SafetensorsWriter();
    for (Map.Entry<String, float[]> e : values.entrySet()) {
      w.addFloats(e.getKey(), DType.F32, shapes.get(e.getKey()), e.getValue());
    }
    Map<String, String> meta = new LinkedHashMap<>(metadata);
    meta.putIfAbsent("format", "pt");
    w.metadata(meta);
    w.write(file);
  }

  /** Reads a file written by {@link #save} (any float dtype is read as float32). */
  public static Importance load(Path file) throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      Map<String, float[]> v = new LinkedHashMap<>();
      Map<String, long[]> s = new LinkedHashMap<>();
      for (TensorInfo info : f.infos()) {
        if (!info.dtype().isFloatingPoint()) {
          throw new SafetensorsException(file + ": tensor '" + info.name() + "' is " + info.dtype()
              + "; an importance file holds float tensors keyed by parameter name");
        }
        v.put(info.name(), f.readFloats(info.name()));
        s.put(info.name(), info.shape());
      }
      if (v.isEmpty()) {
        throw new SafetensorsException(file + ": holds no tensor; is it an importance file (retain importance)?");
      }
      return new Importance(v, s, f.metadata());
    }
  }

  /**
   * Checks that every name exists in {@code params} with the same shape; the message names the file
   * or source {@code what}.
   */
  void checkAgainst(Map<String, Parameter> params, String what) {
    for (String n : values.keySet()) {
      Parameter p = params.get(n);
      if (p == null) {
        throw new IllegalArgumentException(what + ": has importance for '" + n + "' which the model does not have "
            + "(was it computed for another model?)");
      }
      long[] want = p.data().getShape().getShape();
      if (!Arrays.equals(want, shapes.get(n))) {
        throw new IllegalArgumentException(what + ": '" + n + "' has shape " + Arrays.toString(shapes.get(n))
            + " but the model's parameter is " + Arrays.toString(want) + " (was it computed for another model?)");
      }
    }
  }

  /** {@code name}'s values as a new tensor in {@code m}, outside every step scope (the caller closes it). */
  NDArray tensor(NDManager m, String name) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray a = m.create(values.get(name), new Shape(shapes.get(name)));
      NDScope.unregister(a);
      return a;
    }
  }

  @Override
  public String toString() {
    return "Importance[" + kind() + ", " + values.size() + " tensors, samples " + samples() + "]";
  }
}
