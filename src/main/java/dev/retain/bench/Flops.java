package dev.retain.bench;

import dev.retain.model.ModelConfig;
import java.util.Set;

/**
 * Model FLOPs per token: the multiply-adds the model needs, counted as 2 FLOPs each, with no credit
 * for recomputation or for elementwise work (norms, RoPE, softmax, SiLU, the optimizer). This is the
 * numerator of model FLOP utilisation (MFU = FLOPs/token x tokens/s / measured matmul peak).
 *
 * <p>Notation: N = parameters that take part in a matrix multiplication (every decoder projection
 * plus lm_head; the embedding is a row lookup and costs nothing), L layers, H query heads of size Dh,
 * T the sequence length (every query meets all T keys: the attention here computes the full T x T
 * score matrix and masks it, as the PyTorch peer does too).
 *
 * <pre>
 *   forward                        2 N + 4 L T H Dh             (QK^T and PV: 2 T H Dh each)
 *   full fine-tuning               6 N + 12 L T H Dh            (forward + 2x for backward: input
 *                                                               and weight gradients of every matmul)
 *   LoRA (rank r, targets S)       2 N + 2 N_act + 6 N_lora + A_lora
 *        N_lora = sum over adapted layers of r (in + out)       (forward, weight and input gradients)
 *        N_act  = N minus the q/k/v projections of layer 0      (input gradients through the frozen
 *                 (their input comes from the frozen embedding   base: ~4x N in all, not 6x, since
 *                 and needs no gradient)                         frozen weights get no gradient)
 *        A_lora = 4 L T H Dh forward + 8 (L-1) T H Dh backward + layer 0's backward (2 T H Dh each
 *                 for dV if v is adapted, dQ if q is, dK if k is, and dP if q or k is)
 *   LoRA + distillation            LoRA + one teacher forward (2 N + 4 L T H Dh)
 *   generation with the KV cache   2 N + 4 L S H Dh for the token at context length S
 * </pre>
 *
 * Layer-0 LoRA A input gradients (r x in) are also skipped when the layer's input needs no gradient.
 */
public final class Flops {
  private Flops() {}

  /** Weights of every matmul: q, k, v, o, gate, up, down of each layer and lm_head (biases ignored). */
  public static long matmulParams(ModelConfig c) {
    long perLayer = 0;
    for (String m : MODULES) {
      perLayer += in(c, m) * out(c, m);
    }
    return perLayer * c.numLayers + (long) c.vocabSize * c.hiddenSize;
  }

  /** The seven projections of a decoder layer, by their short (PEFT) names. */
  public static final String[] MODULES = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

  /** in_features of a projection. */
  public static long in(ModelConfig c, String module) {
    return switch (module) {
      case "q_proj", "k_proj", "v_proj", "gate_proj", "up_proj" -> c.hiddenSize;
      case "o_proj" -> (long) c.numHeads * c.headDim;
      case "down_proj" -> c.intermediateSize;
      default -> throw new IllegalArgumentException("unknown module " + module);
    };
  }

  /** out_features of a projection. */
  public static long out(ModelConfig c, String module) {
    return switch (module) {
      case "q_proj" -> (long) c.numHeads * c.headDim;
      case "k_proj", "v_proj" -> (long) c.numKvHeads * c.headDim;
      case "o_proj" -> c.hiddenSize;
      case "gate_proj", "up_proj" -> c.intermediateSize;
      case "down_proj" -> c.hiddenSize;
      default -> throw new IllegalArgumentException("unknown module " + module);
    };
  }

  /** LoRA parameters: r (in + out) per adapted projection, in every layer. */
  public static long loraParams(ModelConfig c, int r, Set<String> targets) {
    long n = 0;
    for (String m : MODULES) {
      if (targets.contains(m)) {
        n += (long) r * (in(c, m) + out(c, m));
      }
    }
    return n * c.numLayers;
  }

  /** Attention FLOPs of one token's forward pass at context length s, all layers: 4 L s H Dh. */
  public static double attentionForward(ModelConfig c, long s) {
    return 4.0 * c.numLayers * s * c.numHeads * c.headDim;
  }

  /** Forward pass, per token, sequence length t. */
  public static double forward(ModelConfig c, long t) {
    return 2.0 * matmulParams(c) + attentionForward(c, t);
  }

  /** Full fine-tuning step (forward + backward), per token. */
  public static double trainFull(ModelConfig c, long t) {
    return 6.0 * matmulParams(c) + 3 * attentionForward(c, t);
  }

  /** LoRA step (forward + backward through the frozen base + adapter gradients), per token. */
  public static double trainLora(ModelConfig c, long t, int r, Set<String> targets) {
    long n = matmulParams(c);
    long layer0Qkv = 0;
    for (String m : new String[] {"q_proj", "k_proj", "v_proj"}) {
      layer0Qkv += in(c, m) * out(c, m);
    }
    double nAct = n - layer0Qkv;
    long lora = loraParams(c, r, targets);
    // Layer 0: the input gradient through each q/k/v adapter's A (r x in) is not needed either.
    long layer0LoraA = 0;
    for (String m : new String[] {"q_proj", "k_proj", "v_proj"}) {
      if (targets.contains(m)) {
        layer0LoraA += r * in(c, m);
      }
    }
    double unit = 2.0 * t * c.numHeads * c.headDim; // one T x T x Dh matmul over all heads, per token
    boolean q = targets.contains("q_proj");
    boolean k = targets.contains("k_proj");
    boolean v = targets.contains("v_proj");
    double layer0Back = unit * ((v ? 1 : 0) + (q || k ? 1 : 0) + (q ? 1 : 0) + (k ? 1 : 0));
    double attn = attentionForward(c, t) + 4 * unit * (c.numLayers - 1) + layer0Back;
    return 2.0 * n + 2.0 * nAct + 6.0 * lora - 2.0 * layer0LoraA + attn;
  }

  /** One generated token with the KV cache at context length s (prompt plus tokens so far, this one included). */
  public static double generateToken(ModelConfig c, long s) {
    return 2.0 * matmulParams(c) + attentionForward(c, s);
  }

  /** Mean FLOPs per generated token for a prompt of p tokens followed by n new tokens (prefill included). */
  public static double generateMean(ModelConfig c, int p, int n) {
    if (n <= 0) {
      return 0;
    }
    // Prefill: p tokens at context up to p (full p x p scores), then n-1 single-token steps.
    double total = p * forward(c, p);
    for (int i = 1; i < n; i++) {
      total += generateToken(c, p + i);
    }
    return total / n;
  }
}
