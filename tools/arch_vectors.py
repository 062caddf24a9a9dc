#!/usr/bin/env python3
"""Independent expected outputs for architecture variants retain must handle (numpy only).

Writes tiny Hugging Face model folders under src/test/resources/arch/<case>/ with config.json,
model.safetensors, inputs (input_ids) and expected (logits, loss_per_token) computed here by a
plain numpy implementation of transformers' Llama/Qwen2 forward pass (float64, eager attention,
rotate-half RoPE, causal mask). The cases cover what ../shared/reference does not:

  gqa    llama, 4 query heads sharing 2 KV heads, untied head
  tied   llama, tie_word_embeddings true (no lm_head.weight in the file)
  qwen2  qwen2: biases on q/k/v projections, 1 KV head (multi-query), tied head

Run from the repository root:  python3 tools/arch_vectors.py
The files are committed; tests only read them.
"""
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        arr = tensors[name]
        dtype = {np.float32: "F32", np.int64: "I64"}[arr.dtype.type]
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rms_norm(x, w, eps):
    var = np.mean(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(var + eps) * w


def rope_tables(T, d, theta):
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    f = np.outer(np.arange(T, dtype=np.float64), inv)
    emb = np.concatenate([f, f], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def forward(cfg, W, ids):
    B, T = ids.shape
    H, KV, L = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"]
    D = cfg["hidden_size"] // H
    eps = cfg["rms_norm_eps"]
    qwen = cfg["model_type"] == "qwen2"
    g = {k: v.astype(np.float64) for k, v in W.items()}
    cos, sin = rope_tables(T, D, cfg["rope_theta"])
    x = g["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms_norm(x, g[p + "input_layernorm.weight"], eps)

        def proj(name, n):
            y = h @ g[p + f"self_attn.{name}.weight"].T
            if qwen:
                y = y + g[p + f"self_attn.{name}.bias"]
            return y.reshape(B, T, n, D).transpose(0, 2, 1, 3)

        q, k, v = proj("q_proj", H), proj("k_proj", KV), proj("v_proj", KV)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        a = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, H * D)
        x = x + a @ g[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, g[p + "post_attention_layernorm.weight"], eps)
        gate = h @ g[p + "mlp.gate_proj.weight"].T
        up = h @ g[p + "mlp.up_proj.weight"].T
        x = x + ((gate / (1 + np.exp(-gate))) * up) @ g[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, g["model.norm.weight"], eps)
    head = g["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else g["lm_head.weight"]
    logits = x @ head.T
    lp = logits - logits.max(-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    loss = -np.take_along_axis(lp[:, :-1], ids[:, 1:, None], axis=-1)[..., 0]
    return logits, loss


def make(case, model_type, heads, kv, tied, seed):
    rng = np.random.default_rng(seed)
    V, Hd, I, L = 96, 32, 80, 2
    cfg = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "vocab_size": V, "hidden_size": Hd, "intermediate_size": I,
        "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": kv,
        "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "tie_word_embeddings": tied, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    }
    if model_type == "qwen2":
        cfg["use_sliding_window"] = False
        cfg["sliding_window"] = 4096
    else:
        cfg["attention_bias"] = False
        cfg["rope_scaling"] = None
    D = Hd // heads
    W = {"model.embed_tokens.weight": rng.normal(0, 1, (V, Hd)), "model.norm.weight": 1 + 0.1 * rng.normal(size=Hd)}
    for i in range(L):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=Hd)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=Hd)
        for name, (o, n) in {"q_proj": (heads * D, Hd), "k_proj": (kv * D, Hd), "v_proj": (kv * D, Hd),
                             "o_proj": (Hd, heads * D)}.items():
            W[p + f"self_attn.{name}.weight"] = rng.normal(0, 1 / np.sqrt(n), (o, n))
            if model_type == "qwen2" and name != "o_proj":
                W[p + f"self_attn.{name}.bias"] = 0.5 * rng.normal(size=o)
        W[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / np.sqrt(Hd), (I, Hd))
        W[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / np.sqrt(Hd), (I, Hd))
        W[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / np.sqrt(I), (Hd, I))
    if not tied:
        W["lm_head.weight"] = rng.normal(0, 1 / np.sqrt(Hd), (V, Hd))
    W = {k: v.astype(np.float32) for k, v in W.items()}
    ids = rng.integers(0, V, size=(2, 12)).astype(np.int64)
    ids[:, 0] = 1
    logits, loss = forward(cfg, W, ids)
    out = os.path.join("src", "test", "resources", "arch", case)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), W)
    write_safetensors(os.path.join(out, "expected.safetensors"), {
        "input_ids": ids, "logits": logits.astype(np.float32), "loss_per_token": loss.astype(np.float32)})
    print(case, "logits std", float(logits.std()))


if __name__ == "__main__":
    make("gqa", "llama", heads=4, kv=2, tied=False, seed=11)
    make("tied", "llama", heads=4, kv=4, tied=True, seed=12)
    make("qwen2", "qwen2", heads=4, kv=1, tied=True, seed=13)
