package dev.retain.peft.bottleneck;

import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import dev.retain.peft.Adapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Bottleneck adapters applied to a model (by {@link Bottleneck#apply} or {@link Bottleneck#load}). */
public final class BottleneckModel implements Adapter {
  private final CausalLM model;
  private final BottleneckConfig config;
  private final int bottleneckSize;
  private final Map<Integer, BottleneckAdapter> adapters;
  private final String baseModelNameOrPath;

  BottleneckModel(CausalLM model, BottleneckConfig config, int bottleneckSize, Map<Integer, BottleneckAdapter> adapters,
      String baseModelNameOrPath) {
    this.model = model;
    this.config = config;
    this.bottleneckSize = bottleneckSize;
    this.adapters = Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
    this.baseModelNameOrPath = baseModelNameOrPath;
  }

  @Override
  public String type() {
    return "bottleneck";
  }

  public CausalLM model() {
    return model;
  }

  public BottleneckConfig config() {
    return config;
  }

  /** The bottleneck width actually used. */
  public int bottleneckSize() {
    return bottleneckSize;
  }

  /** Adapters by decoder layer index, ascending. */
  public Map<Integer, BottleneckAdapter> adapters() {
    return adapters;
  }

  public String baseModelNameOrPath() {
    return baseModelNameOrPath;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (BottleneckAdapter a : adapters.values()) {
      out.addAll(a.parameters());
    }
    return out;
  }

  @Override
  public void setEnabled(boolean enabled) {
    for (BottleneckAdapter a : adapters.values()) {
      a.setEnabled(enabled);
    }
  }

  /** Removes the adapters from the model; this handle is then spent. */
  public void unload() {
    for (Map.Entry<Integer, BottleneckAdapter> e : adapters.entrySet()) {
      CausalLM.Layer l = model.layers.get(e.getKey());
      if (l.mlpAdapter() == e.getValue()) {
        l.setMlpAdapter(null);
      }
    }
  }

  @Override
  public void save(Path dir, String baseModelNameOrPath) throws IOException {
    Bottleneck.save(dir, this, baseModelNameOrPath != null ? baseModelNameOrPath : this.baseModelNameOrPath);
  }

  public void save(Path dir) throws IOException {
    save(dir, null);
  }
}
