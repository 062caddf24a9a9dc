package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Host;
import dev.retain.tensor.Ops;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2) as in Hugging Face transformers: token embeddings,
 * then per layer x += attn(rmsnorm(x)); x += mlp(rmsnorm(x)), a final RMSNorm and the output head.
 * Attention is causal with rotary positions (rotate-half convention) and grouped-query heads; the
 * MLP is SwiGLU. Parameters carry their checkpoint names, so loading, saving, freezing and adapters
 * all speak the same names as the Python world.
 *
 * <p>Read {@link #decode} (embedding and layers) and {@link #forward} (final norm and head) top to
 * bottom: they are the whole model.
 */
public final class CausalLM implements AutoCloseable {
  public final ModelConfig config;
  private final NDManager manager;
  public final Parameter embedTokens;
  public final List<Layer> layers;
  public final Parameter norm;
  public final Linear lmHead;
  private final Rope rope;
  private final Map<String, Parameter> params;

  /** One decoder block's weights, named as the checkpoint names them. */
  public static final class Layer {
    public final int index;
    public final Parameter inputLayernorm;
    public final Linear qProj;
    public final Linear kProj;
    public final Linear vProj;
    public final Linear oProj;
    public final Parameter postAttentionLayernorm;
    public final Linear gateProj;
    public final Linear upProj;
    public final Linear downProj;
    private ResidualAdapter mlpAdapter;

    Layer(int index, Map<String, Parameter> p, ModelConfig c) {
      this.index = index;
      String pre = "model.layers." + index + ".";
      inputLayernorm = p.get(pre + "input_layernorm.weight");
      qProj = linear(p, pre + "self_attn.q_proj", c.qkvBias);
      kProj = linear(p, pre + "self_attn.k_proj", c.qkvBias);
      vProj = linear(p, pre + "self_attn.v_proj", c.qkvBias);
      oProj = linear(p, pre + "self_attn.o_proj", c.oBias);
      postAttentionLayernorm = p.get(pre + "post_attention_layernorm.weight");
      gateProj = linear(p, pre + "mlp.gate_proj", c.mlpBias);
      upProj = linear(p, pre + "mlp.up_proj", c.mlpBias);
      downProj = linear(p, pre + "mlp.down_proj", c.mlpBias);
    }

    public List<Linear> linears() {
      return List.of(qProj, kProj, vProj, oProj, gateProj, upProj, downProj);
    }

    public ResidualAdapter mlpAdapter() {
      return mlpAdapter;
    }

    public void setMlpAdapter(ResidualAdapter adapter) {
      this.mlpAdapter = adapter;
    }
  }

  /** Logits [B, T, V] and, when asked, Hugging Face's hidden_states list (L+1 entries). */
  public record Output(NDArray logits, List<NDArray> hiddenStates) {}

  /**
   * Builds the model around parameters already created in {@code manager} (see {@link ModelLoader}).
   * {@code params} maps every checkpoint name the config implies to its parameter.
   */
  CausalLM(ModelConfig config, NDManager manager, Map<String, Parameter> params) {
    this.config = config;
    this.manager = manager;
    this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    embedTokens = params.get("model.embed_tokens.weight");
    List<Layer> ls = new ArrayList<>();
    for (int i = 0; i < config.numLayers; i++) {
      ls.add(new Layer(i, params, config));
    }
    layers = List.copyOf(ls);
    norm = params.get("model.norm.weight");
    lmHead = new Linear("lm_head", config.tieWordEmbeddings ? embedTokens : params.get("lm_head.weight"), null);
    rope = new Rope(manager, config.headDim, config.ropeTheta);
  }

  private static Linear linear(Map<String, Parameter> p, String name, boolean bias) {
    return new Linear(name, p.get(name + ".weight"), bias ? p.get(name + ".bias") : null);
  }

  /** The base model's parameters by checkpoint name, in checkpoint order (tied lm_head not repeated). */
  public Map<String, Parameter> parameters() {
    return params;
  }

  /** Every parameter, base and adapters, by name. */
  public Map<String, Parameter> allParameters() {
    Map<String, Parameter> all = new LinkedHashMap<>(params);
    for (Layer l : layers) {
      for (Linear lin : l.linears()) {
        if (lin.adapter() != null) {
          lin.adapter().parameters().forEach(p -> all.put(p.name(), p));
        }
      }
      if (l.mlpAdapter != null) {
        l.mlpAdapter.parameters().forEach(p -> all.put(p.name(), p));
      }
    }
    return all;
  }

  /** Every linear layer by module name (the names PEFT's target_modules match against). */
  public Map<String, Linear> linears() {
    Map<String, Linear> m = new LinkedHashMap<>();
    for (Layer l : layers) {
      for (Linear lin : l.linears()) {
        m.put(lin.name, lin);
      }
    }
    return m;
  }

  /** Every decoder projection, then the output head (which may wrap the tied embedding). */
  public List<Linear> linearsWithHead() {
    List<Linear> all = new ArrayList<>(linears().values());
    all.add(lmHead);
    return all;
  }

  /** Switches every adapter (LoRA, bottleneck) on or off; off gives the base model's function. */
  public void setAdaptersEnabled(boolean enabled) {
    for (Layer l : layers) {
      for (Linear lin : l.linears()) {
        if (lin.adapter() != null) {
          lin.adapter().setEnabled(enabled);
        }
      }
      if (l.mlpAdapter != null) {
        l.mlpAdapter.setEnabled(enabled);
      }
    }
  }

  public NDManager manager() {
    return manager;
  }

  /** Logits of a plain causal pass over int64 ids [B, T], positions 0..T-1. */
  public NDArray logits(NDArray inputIds) {
    return forward(inputIds, null, null, null, false).logits();
  }

  /**
   * The forward pass.
   *
   * @param inputIds int64 [B, T]
   * @param positions int64 [B, T] rotary positions, or null for cacheLength..cacheLength+T-1
   * @param mask additive float mask broadcastable to [B, 1, T, S] (0 = attend, -inf = not), or null
   *     for plain causal attention over the cache and the new tokens
   * @param cache keys/values of earlier positions, appended to; null for none
   * @param withHidden whether to keep every layer's hidden state
   */
  public Output forward(NDArray inputIds, NDArray positions, NDArray mask, KVCache cache, boolean withHidden) {
    List<NDArray> hidden = withHidden ? new ArrayList<>() : null;
    NDArray x = Ops.rmsNorm(decode(inputIds, positions, mask, cache, hidden, null), norm.data(), config.rmsNormEps);
    if (withHidden) {
      // transformers' hidden_states: the input of every layer, then the final normed output.
      hidden.add(x);
    }
    return new Output(lmHead.forward(x), hidden);
  }

  /**
   * Logits [N, V] at the target positions of {@code in} only (its n-th target position gives row n).
   * Every layer's attention still runs over every position (the targets attend to them all), but what
   * comes after the last layer's attention is per position and only the target rows go on: that
   * layer's o_proj and MLP, the final norm, the head and whatever loss is built on the logits. On
   * prompt/completion data that skips most of the head's work and most of the last layer's MLP.
   */
  public NDArray targetLogits(PackedInputs in) {
    NDArray x = decode(in.ids, in.positions, in.mask, null, null, in.at);
    return lmHead.forward(Ops.rmsNorm(x.reshape(-1, config.hiddenSize), norm.data(), config.rmsNormEps));
  }

  /**
   * Logits [B, V] of each row's last position, the one generation samples from: a prompt's prefill
   * runs the last layer's MLP and the head once per row instead of once per position (the cache
   * still gets every position's keys and values). Arguments as for {@link #forward}.
   */
  public NDArray lastLogits(NDArray inputIds, NDArray positions, NDArray mask, KVCache cache) {
    long b = inputIds.getShape().get(0);
    long t = inputIds.getShape().get(1);
    NDArray at = null;
    if (t > 1) {
      long[] last = new long[(int) b];
      for (int r = 0; r < b; r++) {
        last[r] = r * t + t - 1;
      }
      at = Host.of(inputIds.getManager(), last);
    }
    NDArray x = decode(inputIds, positions, mask, cache, null, at);
    return lmHead.forward(Ops.rmsNorm(x.reshape(b, config.hiddenSize), norm.data(), config.rmsNormEps));
  }

  /**
   * The decoder layers over the embedded ids: the last layer's output before the final norm, [B, T,
   * hidden], or [N, hidden] at the flat positions {@code at} (row * T + position) when given.
   */
  private NDArray decode(NDArray inputIds, NDArray positions, NDArray mask, KVCache cache, List<NDArray> hidden,
      NDArray at) {
    Shape shape = inputIds.getShape();
    long b = shape.get(0);
    long t = shape.get(1);
    int past = cache == null ? 0 : cache.length();
    NDManager m = inputIds.getManager();
    int maxPos;
    if (positions == null) {
      positions = m.arange(past, past + (int) t, 1, DataType.INT64).reshape(1, t);
      maxPos = past + (int) t - 1; // known: no reduction and read-back per generated token
    } else {
      maxPos = (int) positions.max().toType(DataType.INT64, false).getLong();
    }
    if (mask == null && t > 1) {
      mask = Masks.causal(m, (int) t, past);
    }
    NDArray[] cs = rope.lookup(positions, maxPos);
    NDArray cos = cs[0];
    NDArray sin = cs[1];
    // The attention scale 1/sqrt(head_dim) rides on q's rotary tables: q arrives scaled, and the
    // [B, H, T, S] scores need no multiplication of their own (the same product, one pass fewer).
    NDArray scale = Consts.of((float) (1.0 / Math.sqrt(config.headDim)));
    NDArray cosQ = cos.mul(scale);
    NDArray sinQ = sin.mul(scale);

    NDArray x = Ops.embedding(inputIds.toType(DataType.INT64, false), embedTokens.data());
    // Each layer runs in its own scope and only its output leaves it. Without autograd (evaluation,
    // generation, a distillation teacher) nothing needs a layer's temporaries once its output
    // exists; with autograd the graph keeps what its backward needs (libtorch counts references, so
    // closing the Java handles frees only the rest: masked scores, sums, products already consumed).
    // Peak memory is then one layer's work plus what the graph saves, not every temporary of the pass.
    Layer lastLayer = layers.get(layers.size() - 1);
    for (Layer layer : layers) {
      if (hidden != null) {
        hidden.add(x);
      }
      NDScope scope = new NDScope();
      try {
        // Self-attention block.
        NDArray h = Ops.rmsNorm(x, layer.inputLayernorm.data(), config.rmsNormEps);
        NDArray q = heads(layer.qProj.forward(h), b, t, config.numHeads);
        NDArray k = heads(layer.kProj.forward(h), b, t, config.numKvHeads);
        NDArray v = heads(layer.vProj.forward(h), b, t, config.numKvHeads);
        q = Ops.rope(q, cosQ, sinQ);
        k = Ops.rope(k, cos, sin);
        if (cache != null) {
          NDArray[] kv = cache.append(layer.index, k, v);
          k = kv[0];
          v = kv[1];
        }
        k = Ops.repeatKv(k, config.kvGroups());
        v = Ops.repeatKv(v, config.kvGroups());
        NDArray attn = Ops.attention(q, k, v, mask, 1f)
            .transpose(0, 2, 1, 3)
            .reshape(b, t, (long) config.numHeads * config.headDim);
        if (at != null && layer == lastLayer) {
          // From here on the last layer works per position and only the rows at 'at' are read.
          NDIndex rows = new NDIndex("{}", at);
          attn = attn.reshape(b * t, -1).get(rows);
          x = x.reshape(b * t, -1).get(rows);
        }
        x = x.add(layer.oProj.forward(attn));
        // MLP block (SwiGLU), then the optional bottleneck adapter on its output.
        h = Ops.rmsNorm(x, layer.postAttentionLayernorm.data(), config.rmsNormEps);
        NDArray mlp = layer.downProj.forward(Ops.silu(layer.gateProj.forward(h)).mul(layer.upProj.forward(h)));
        if (layer.mlpAdapter != null && layer.mlpAdapter.enabled()) {
          mlp = layer.mlpAdapter.forward(mlp);
        }
        x = x.add(mlp);
        NDScope.unregister(x);
      } finally {
        scope.close();
      }
      NDScope.register(x); // now the caller's scope owns it, if there is one
    }
    if (cache != null) {
      cache.advance((int) t);
    }
    return x;
  }

  /**
   * The decoder layer a checkpoint name belongs to ({@code model.layers.3.mlp.up_proj.weight} and the
   * module name {@code model.layers.3.mlp.up_proj} give 3), or -1 for embeddings, the final norm and
   * the head. Adapter names carry the base module's name, so they map to its layer.
   */
  public static int layerIndex(String name) {
    String p = "model.layers.";
    if (!name.startsWith(p)) {
      return -1;
    }
    int end = name.indexOf('.', p.length());
    try {
      return Integer.parseInt(name.substring(p.length(), end < 0 ? name.length() : end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** [B, T, heads*D] -> [B, heads, T, D]. */
  private NDArray heads(NDArray x, long b, long t, int n) {
    return x.reshape(b, t, n, config.headDim).transpose(0, 2, 1, 3);
  }

  /**
   * Per-token next-token cross-entropy [B, T-1]: loss[:, i] = CE(logits[:, i], ids[:, i+1]), as
   * transformers computes its loss with labels = input_ids.
   */
  public static NDArray nextTokenLoss(NDArray logits, NDArray inputIds) {
    long t = logits.getShape().get(1);
    NDArray pred = logits.get(":, :{}, :", t - 1);
    NDArray target = inputIds.get(":, 1:");
    return Ops.crossEntropy(pred, target);
  }

  /** Total number of base parameters (tied weights counted once). */
  public long numParameters() {
    return params.values().stream().mapToLong(Parameter::numel).sum();
  }

  @Override
  public void close() {
    manager.close();
  }
}
