package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.LinearAdapter;
import dev.retain.model.Parameter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The starting point theta* of a run and how far each weight has drifted from it: what EWC, SI and
 * L2-SP penalise. Shared by those terms so that they agree on what "drift" means.
 *
 * <p>The protected coordinates are named by parameter name:
 *
 * <ul>
 *   <li>a trainable parameter that does not belong to a {@link LinearAdapter} (a base weight under
 *       full or staged fine-tuning, or a bottleneck adapter's weight): drift = theta - theta*;
 *   <li>the base weight W of a linear layer with an enabled {@link LinearAdapter}: drift =
 *       {@link LinearAdapter#deltaWeight()} (LoRA: scaling * B A, zero at the start since B starts at
 *       zero), plus W - W* when W itself also trains. The adapter's own parameters (LoRA's A and B) are
 *       not penalised directly: they are not weights of the function, their product is.
 * </ul>
 *
 * Frozen parameters never move, so their drift is zero and they are skipped.
 *
 * <p>theta* is a frozen copy (no gradient, outside every step scope) of a parameter's value taken the
 * first time the term sees it trainable ({@link #snapshotTrainable}, called from
 * {@code LossTerm.onTrainableChanged}, or lazily). Because a frozen parameter cannot change, this is
 * the value it had when the term was created, as long as the term is created before training starts
 * (and before {@code Trainer.resumeFrom} loads checkpoint weights; the trainer applies the stage, and so
 * calls onTrainableChanged, before it loads them). Copies are only made for parameters that train,
 * so a LoRA run holds no copy of the base model.
 */
final class Anchors implements AutoCloseable {
  private final CausalLM model;
  private Map<String, Parameter> params;
  private Map<String, LinearAdapter> adapted;
  private Set<String> adapterParams;
  private final Map<String, NDArray> anchors = new LinkedHashMap<>();

  /** Anchors for a model; adapters are looked up again on every use (they may be attached later). */
  Anchors(CausalLM model) {
    this.model = model;
    refresh();
  }

  /** Anchors over a fixed set of parameters, without adapters (tests, toy problems). */
  Anchors(Map<String, Parameter> params) {
    this(params, Map.of());
  }

  /** Anchors over fixed parameters and adapters (keyed by the name of the base weight they change). */
  Anchors(Map<String, Parameter> params, Map<String, LinearAdapter> adapters) {
    this.model = null;
    this.params = new LinkedHashMap<>(params);
    this.adapted = new LinkedHashMap<>(adapters);
    this.adapterParams = new HashSet<>();
    for (LinearAdapter a : adapters.values()) {
      for (Parameter p : a.parameters()) {
        adapterParams.add(p.name());
        this.params.putIfAbsent(p.name(), p);
      }
    }
  }

  /** Re-reads the model's parameters and adapters. */
  void refresh() {
    if (model == null) {
      return;
    }
    Map<String, Parameter> all = model.allParameters();
    Map<String, LinearAdapter> ad = new LinkedHashMap<>();
    Set<String> ap = new HashSet<>();
    for (Linear lin : model.linearsWithHead()) {
      LinearAdapter a = lin.adapter();
      if (a != null) {
        ad.put(lin.weight.name(), a);
        for (Parameter p : a.parameters()) {
          ap.add(p.name());
          all.putIfAbsent(p.name(), p);
        }
      }
    }
    params = all;
    adapted = ad;
    adapterParams = ap;
  }

  /** Every parameter known (base and adapters) by name. */
  Map<String, Parameter> parameters() {
    return params;
  }

  /** Whether {@code name} is a parameter of a {@link LinearAdapter} (LoRA A/B). */
  boolean isLinearAdapterParameter(String name) {
    return adapterParams.contains(name);
  }

  /** The names whose drift can be non-zero now (see the class comment), in model order. */
  List<String> protectedNames() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String n = e.getKey();
      if (adapterParams.contains(n)) {
        continue;
      }
      LinearAdapter a = adapted.get(n);
      if (e.getValue().trainable() || (a != null && a.enabled())) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * Trainable parameters whose drift is theta - theta* (not adapter-only drift): the coordinates
   * that have gradients of their own (SI's path integral runs over these).
   */
  List<String> directNames() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      if (e.getValue().trainable() && !adapterParams.contains(e.getKey())) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  /** Takes theta* of every trainable parameter (accepted by {@code which}) that has none yet. */
  void snapshotTrainable(java.util.function.Predicate<String> which) {
    for (String n : directNames()) {
      if (which.test(n)) {
        anchor(n);
      }
    }
  }

  /**
   * sum over the protected names n of sum(w_n * drift_n^2), where {@code weight} gives w_n (null:
   * skip n) and {@link #UNIT} stands for w_n = 1. A 0-d tensor in the graph; 0 when nothing is
   * protected.
   */
  NDArray weightedSquaredDrift(java.util.function.Function<String, NDArray> weight) {
    refresh();
    NDArray total = null;
    for (String n : protectedNames()) {
      NDArray w = weight.apply(n);
      if (w == null) {
        continue;
      }
      NDArray d = drift(n);
      if (d == null) {
        continue;
      }
      // sum(w d^2) built so that its backward is one multiply: with c = w d held constant,
      // 2 sum(d c) - sum(d c) has the value sum(w d^2) and the gradient 2 w d, the exact derivative.
      // (Autograd of w d d would spend three full-size multiplies and an add on the same gradient.)
      NDArray c = w == UNIT ? d.stopGradient() : d.stopGradient().mul(w);
      NDArray dc = d.mul(c).sum();
      NDArray s = dc.mul(TWO).sub(dc.stopGradient());
      total = total == null ? s : total.add(s);
    }
    return total != null ? total : manager().zeros(new ai.djl.ndarray.types.Shape());
  }

  /** Marker weight for {@link #weightedSquaredDrift}: 1 everywhere. */
  static final NDArray UNIT = dev.retain.tensor.Consts.of(1f);

  private static final NDArray TWO = dev.retain.tensor.Consts.of(2f);

  /** The manager new tensors of the model go to. */
  ai.djl.ndarray.NDManager manager() {
    if (model != null) {
      return model.manager();
    }
    return params.values().iterator().next().data().getManager();
  }

  /** theta* of {@code name}, taken now if it was not taken before. */
  NDArray anchor(String name) {
    NDArray a = anchors.get(name);
    if (a == null) {
      Parameter p = params.get(name);
      if (p == null) {
        throw new IllegalArgumentException("no parameter named '" + name + "'");
      }
      a = frozenCopy(p.data());
      anchors.put(name, a);
    }
    return a;
  }

  /** Whether theta* of {@code name} was taken. */
  boolean hasAnchor(String name) {
    return anchors.containsKey(name);
  }

  /** Moves theta* of every anchored parameter to its current value (a new task starts here). */
  void reanchor() {
    for (Map.Entry<String, NDArray> e : anchors.entrySet()) {
      NDArray old = e.getValue();
      e.setValue(frozenCopy(params.get(e.getKey()).data()));
      old.close();
    }
  }

  /**
   * The drift of {@code name} as a tensor in the autograd graph, or null when it is zero (frozen,
   * no enabled adapter).
   */
  NDArray drift(String name) {
    Parameter p = params.get(name);
    if (p == null) {
      return null;
    }
    NDArray d = null;
    if (p.trainable()) {
      d = p.data().sub(anchor(name));
    }
    LinearAdapter a = adapted.get(name);
    if (a != null && a.enabled()) {
      NDArray dw = a.deltaWeight();
      d = d == null ? dw : d.add(dw);
    }
    return d;
  }

  /** The adapter changing base weight {@code name}, or null. */
  LinearAdapter adapterOf(String name) {
    return adapted.get(name);
  }

  /** A copy of x that carries no gradient and lives until closed (not in any step scope). */
  static NDArray frozenCopy(NDArray x) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray c = x.stopGradient().duplicate();
      NDScope.unregister(c);
      return c;
    }
  }

  @Override
  public void close() {
    anchors.values().forEach(NDArray::close);
    anchors.clear();
  }
}
