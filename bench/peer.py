#!/usr/bin/env python3
"""PyTorch peer of `retain bench`: the same Llama model and the same step in plain PyTorch eager.

Runs ONE case of the benchmark with the shapes, seed, threads and step counts it is given and prints
one line `RETAIN_BENCH_RESULT {json}` with the keys of dev.retain.bench.CaseResult. retain's bench
starts this script once per case, right after retain's own run of that case, so both see the same
machine load.

The math is Hugging Face transformers' Llama (eager attention) and PEFT's LoRA, written out here so
that the peer needs nothing but torch:
  RMSNorm        w * x * rsqrt(mean(x^2) + eps)
  RoPE           rotate-half convention, inv_freq = 1 / theta^(2i/d)
  attention      softmax(q k^T / sqrt(d) + additive causal mask) v, full T x T scores
  MLP            down(silu(gate(x)) * up(x))
  head           untied lm_head, cross-entropy over the target positions (ignore_index -100)
  LoRA           y = W x + (alpha / r) B A x, A Kaiming-uniform (a = sqrt(5)), B zero, W frozen
  optimizer      torch.optim.AdamW(lr 3e-4, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on
                 tensors with 2+ dims, 0 on norms), clip_grad_norm_(1.0), zero_grad()
  EWC            (lambda / 2) * sum F (theta - theta*)^2 over every weight
  distillation   T^2 * weight * sum_p w_p KL(softmax(teacher/T) || softmax(student/T)), teacher = the
                 same model with the LoRA adapters switched off (lora_kd) or a frozen copy of the
                 starting model (full_kd), under no_grad; lora_kd_bf16 runs that teacher under
                 torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's way to a bfloat16 teacher
  bfloat16 base  lora_qv_bf16, lora_kd_bf16base: every frozen linear (the projections under LoRA and
                 the head) multiplies by a bfloat16 copy of its weight, F.linear(x.bfloat16(),
                 W16).float(), as retain's training.base_precision: bfloat16 (the teacher too); LoRA,
                 norms, attention and AdamW stay float32

The token ids are the ones retain uses (SplitMix64 from the seed), so both sides train on the same
data; initial weights are drawn from the same distributions (not the same values).

Needs Debian's python3-torch (1.13) and, for a fair BLAS, libopenblas0-openmp:
    apt-get install python3-torch libopenblas0-openmp
Run it with /usr/bin/python3 (a pyenv python does not see Debian's dist-packages).
"""

import argparse
import copy
import json
import math
import sys
import time

PREFIX = "RETAIN_BENCH_RESULT "
IGNORE = -100
MASK64 = (1 << 64) - 1


def rss(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


class SplitMix:
    """SplitMix64, bit for bit as dev.retain.bench.Workload.SplitMix."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def token(self, vocab):
        return 3 + self.next() % (vocab - 3)


def synthetic_ids(rows, seq, vocab, seed):
    r = SplitMix(seed)
    return [r.token(vocab) for _ in range(rows * seq)]


def build(torch, args, cfg):
    nn = torch.nn
    F = torch.nn.functional

    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    head_dim = cfg.get("head_dim", hidden // heads)
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    vocab = cfg["vocab_size"]
    inter = cfg["intermediate_size"]
    layers = cfg["num_hidden_layers"]

    class RMSNorm(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(n))

        def forward(self, x):
            var = x.pow(2).mean(-1, keepdim=True)
            return self.weight * (x * torch.rsqrt(var + eps))

    class LoraLinear(nn.Module):
        """PEFT's LoRA Linear: base(x) + lora_B(lora_A(x)) * scaling."""

        def __init__(self, base, r, alpha):
            super().__init__()
            self.base = base
            self.lora_A = nn.Linear(base.in_features, r, bias=False)
            self.lora_B = nn.Linear(r, base.out_features, bias=False)
            nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
            nn.init.zeros_(self.lora_B.weight)
            self.scaling = alpha / r
            self.enabled = True

        def forward(self, x):
            y = self.base(x)
            if self.enabled:
                y = y + self.lora_B(self.lora_A(x)) * self.scaling
            return y

    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False)
            self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False)

        def forward(self, x, cos, sin, mask, cache, layer):
            b, t, _ = x.shape
            q = self.q_proj(x).view(b, t, heads, head_dim).transpose(1, 2)
            k = self.k_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2)
            v = self.v_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache is not None:
                if cache[layer] is not None:
                    k = torch.cat((cache[layer][0], k), dim=2)
                    v = torch.cat((cache[layer][1], v), dim=2)
                cache[layer] = (k, v)
            if kv_heads != heads:
                rep = heads // kv_heads
                k = k[:, :, None].expand(b, kv_heads, rep, k.shape[2], head_dim).reshape(b, heads, k.shape[2], head_dim)
                v = v[:, :, None].expand(b, kv_heads, rep, v.shape[2], head_dim).reshape(b, heads, v.shape[2], head_dim)
            w = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(head_dim))
            if mask is not None:
                w = w + mask
            w = F.softmax(w, dim=-1, dtype=torch.float32)
            o = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(b, t, heads * head_dim)
            return self.o_proj(o)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = nn.Linear(hidden, inter, bias=False)
            self.up_proj = nn.Linear(hidden, inter, bias=False)
            self.down_proj = nn.Linear(inter, hidden, bias=False)

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = RMSNorm(hidden)
            self.self_attn = Attention()
            self.post_attention_layernorm = RMSNorm(hidden)
            self.mlp = MLP()

        def forward(self, x, cos, sin, mask, cache, i):
            x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, i)
            return x + self.mlp(self.post_attention_layernorm(x))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, hidden)
            self.layers = nn.ModuleList([Layer() for _ in range(layers)])
            self.norm = RMSNorm(hidden)
            self.lm_head = nn.Linear(hidden, vocab, bias=False)
            inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
            pos = torch.arange(cfg.get("max_position_embeddings", 2048), dtype=torch.float32)
            freqs = torch.outer(pos, inv)
            emb = torch.cat((freqs, freqs), dim=-1)
            self.register_buffer("cos_table", emb.cos(), persistent=False)
            self.register_buffer("sin_table", emb.sin(), persistent=False)

        def forward(self, ids, positions, mask, cache=None):
            cos = self.cos_table[positions].unsqueeze(1)
            sin = self.sin_table[positions].unsqueeze(1)
            x = self.embed_tokens(ids)
            for i, layer in enumerate(self.layers):
                x = layer(x, cos, sin, mask, cache, i)
            return self.lm_head(self.norm(x))

    model = Llama()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
    return model, LoraLinear


def apply_lora(model, LoraLinear, targets, r, alpha):
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = []
    for layer in model.layers:
        for owner in (layer.self_attn, layer.mlp):
            for name in list(owner._modules):
                if name in targets:
                    lora = LoraLinear(getattr(owner, name), r, alpha)
                    setattr(owner, name, lora)
                    adapters.append(lora)
    return adapters


def bfloat16_base(torch, model):
    """lora_qv_bf16: each frozen nn.Linear runs on a bfloat16 copy of its weight (its gradient reaches x)."""
    F = torch.nn.functional

    def on_copy(w16, bias):
        def forward(x):
            y = F.linear(x.to(torch.bfloat16), w16).float()
            return y if bias is None else y + bias
        return forward

    for m in model.modules():
        if isinstance(m, torch.nn.Linear) and not m.weight.requires_grad:
            m.forward = on_copy(m.weight.detach().to(torch.bfloat16).contiguous(), m.bias)


def read_safetensors(torch, path):
    """A minimal safetensors reader (F32 only): 8-byte header length, JSON header, raw little-endian data."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: %s is %s, expected F32" % (path, name, info["dtype"]))
        a, b = info["data_offsets"]
        buf = bytearray(data[8 + n + a:8 + n + b])
        out[name] = torch.frombuffer(buf, dtype=torch.float32).reshape(info["shape"])
    return out


def load_retain_weights(torch, model, path):
    """Copies retain's tensors (Hugging Face / PEFT names) into the peer's modules."""
    tensors = read_safetensors(torch, path)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, t in tensors.items():
            key = name[len("model."):] if name.startswith("model.") else name
            if key not in params and key.endswith(".weight"):
                key = key[:-len(".weight")] + ".base.weight"
            if key not in params:
                raise KeyError("retain tensor %s has no peer parameter (%s)" % (name, key))
            params[key].copy_(t)
            del params[key]
    if params:
        raise KeyError("peer parameters not in retain's file: %s" % sorted(params)[:5])


def causal_mask(torch, rows, t):
    m = torch.full((t, t), float("-inf")).triu(1)
    return m.expand(rows, 1, t, t).contiguous()


def matmul_gflops(torch, n=1024, repeats=15):
    """The fastest of `repeats` n^3 float32 matmuls, GFLOP/s (as dev.retain.bench.MatmulPeak)."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    times = []
    for i in range(repeats + 2):
        t0 = time.perf_counter()
        a @ b
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / min(times) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", required=True,
                    choices=["full", "lora_qv", "lora_qv_bf16", "lora_all", "lora_kd", "lora_kd_bf16", "lora_kd_bf16base",
                             "full_ewc", "full_kd", "eval", "generate"])
    ap.add_argument("--config", required=True, help="config.json text or a path to one")
    ap.add_argument("--model-label", default="model")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lora-r", type=int, default=8)
    ap.add_argument("--lora-alpha", type=float, default=32.0)
    ap.add_argument("--gen-prompt", type=int, default=16)
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--ewc-lambda", type=float, default=100.0)
    ap.add_argument("--kd-weight", type=float, default=1.0)
    ap.add_argument("--kd-temperature", type=float, default=2.0)
    ap.add_argument("--target-share", type=float, default=1.0,
                    help="share of each row's positions with a target (the rest, at the row's start, is a prompt)")
    ap.add_argument("--no-matmul", action="store_true", help="skip the matmul peak measurement")
    ap.add_argument("--init-from", help="a safetensors file of retain's weights (retain names) to start from, "
                    "for `retain bench --check-peer`: the losses must then agree step by step")
    ap.add_argument("--profile-out", help="also profile one more step with torch's profiler and write its chrome trace here")
    args = ap.parse_args()

    try:
        import torch
    except ImportError as e:
        print("peer: torch is not importable (%s); install Debian's python3-torch" % e, file=sys.stderr)
        sys.exit(3)
    F = torch.nn.functional
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    cfg_text = args.config
    if not cfg_text.lstrip().startswith("{"):
        with open(cfg_text) as f:
            cfg_text = f.read()
    cfg = json.loads(cfg_text)
    vocab = cfg["vocab_size"]

    a = torch.ones(64, 64)
    (a @ a).sum().item()
    rss_baseline = rss("VmRSS:")
    gflops = float("nan") if args.no_matmul else matmul_gflops(torch)

    torch.manual_seed(args.seed)
    model, LoraLinear = build(torch, args, cfg)
    adapters = []
    case = args.case
    if case in ("lora_qv", "lora_qv_bf16", "lora_kd", "lora_kd_bf16", "lora_kd_bf16base"):
        adapters = apply_lora(model, LoraLinear, {"q_proj", "v_proj"}, args.lora_r, args.lora_alpha)
    elif case == "lora_all":
        adapters = apply_lora(model, LoraLinear,
                              {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
                              args.lora_r, args.lora_alpha)
    elif case in ("eval", "generate"):
        for p in model.parameters():
            p.requires_grad_(False)
    if args.init_from:
        load_retain_weights(torch, model, args.init_from)
    if case in ("lora_qv_bf16", "lora_kd_bf16base"):
        bfloat16_base(torch, model)  # the teacher (adapters off) then runs on the same bfloat16 linears
    teacher_model = None
    if case == "full_kd":
        # the frozen copy of the starting model, as retain's recipe makes for full fine-tuning
        teacher_model = copy.deepcopy(model)
        for p in teacher_model.parameters():
            p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = None
    if trainable:
        decay = [p for p in trainable if p.dim() >= 2]
        no_decay = [p for p in trainable if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": 0.01}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        optimizer = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    ewc = None
    if case == "full_ewc":
        g = torch.Generator().manual_seed(args.seed)
        ewc = [(p, p.detach().clone(), torch.rand(p.shape, generator=g) * 1e-3) for p in trainable]

    rows, t = args.batch, args.seq
    # As Workload.Settings.firstTarget: Java's Math.round (half up) of share * (t - 1) target positions.
    first_target = t - 1 - int(math.floor(args.target_share * (t - 1) + 0.5))
    batches = []
    for i in range(4):
        ids = torch.tensor(synthetic_ids(rows, t, vocab, args.seed + i), dtype=torch.long).view(rows, t)
        targets = torch.full((rows, t), IGNORE, dtype=torch.long)
        targets[:, :-1] = ids[:, 1:]
        targets[:, :first_target] = IGNORE  # a "prompt" without targets when --target-share < 1
        batches.append((ids, targets))
    positions = torch.arange(t).expand(rows, t)
    mask = causal_mask(torch, rows, t)
    n_targets = rows * (t - 1 - first_target)
    kd_w = torch.zeros(rows, t)
    kd_w[:, first_target:-1] = 1.0 / n_targets
    rss_built = rss("VmRSS:")
    first = [float("nan")]
    last = [float("nan")]

    phases = {}

    def phase(name, t0):
        now = time.perf_counter()
        phases.setdefault(name, []).append(now - t0)
        return now

    def train_step(i):
        t0 = time.perf_counter()
        ids, targets = batches[i % len(batches)]
        logits = model(ids, positions, mask)
        t0 = phase("forward", t0)
        ce = F.cross_entropy(logits.view(-1, vocab), targets.view(-1), ignore_index=IGNORE)
        loss = ce
        if ewc is not None:
            pen = None
            for p, anchor, fisher in ewc:
                d = p - anchor
                s = (fisher * (d * d)).sum()
                pen = s if pen is None else pen + s
            pen = pen * (args.ewc_lambda / 2)
            pen.item()
            loss = loss + pen
        if case in ("lora_kd", "lora_kd_bf16", "lora_kd_bf16base", "full_kd"):
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=case == "lora_kd_bf16"):
                if teacher_model is not None:
                    teacher = teacher_model(ids, positions, mask)
                else:
                    for ad in adapters:
                        ad.enabled = False
                    teacher = model(ids, positions, mask)
                    for ad in adapters:
                        ad.enabled = True
            teacher = teacher.float()  # autocast's logits are bfloat16
            temp = args.kd_temperature
            log_q = F.log_softmax(logits / temp, dim=-1)
            log_p = F.log_softmax(teacher / temp, dim=-1)
            kl = F.kl_div(log_q, log_p, reduction="none", log_target=True).sum(-1)
            kd = (kl * kd_w).sum() * (temp * temp) * args.kd_weight
            kd.item()
            loss = loss + kd
        ce.item()
        t0 = phase("loss", t0)
        loss.backward()
        value = loss.item()
        t0 = phase("backward", t0)
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        t0 = phase("clip", t0)
        optimizer.step()
        t0 = phase("adamw", t0)
        optimizer.zero_grad()
        phase("zero_grad", t0)
        return value

    def eval_batch(i):
        ids, targets = batches[i % len(batches)]
        with torch.no_grad():
            logits = model(ids, positions, mask)
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1), ignore_index=IGNORE).item()

    def generate(i):
        prompt = torch.tensor(synthetic_ids(1, args.gen_prompt, vocab, args.seed + 1000 + i), dtype=torch.long).view(1, -1)
        cache = [None] * len(model.layers)
        out = []
        with torch.no_grad():
            p = prompt.shape[1]
            logits = model(prompt, torch.arange(p).view(1, p), causal_mask(torch, 1, p), cache)
            nxt = int(logits[0, -1].argmax())
            out.append(nxt)
            while len(out) < args.gen_tokens:
                pos = p + len(out) - 1
                logits = model(torch.tensor([[nxt]]), torch.tensor([[pos]]), None, cache)
                nxt = int(logits[0, -1].argmax())
                out.append(nxt)
        return float("nan")

    if case == "eval":
        unit, tokens = eval_batch, rows * t
    elif case == "generate":
        unit, tokens = generate, args.gen_tokens
    else:
        model.train()
        unit, tokens = train_step, rows * t

    losses = []
    for i in range(args.warmup):
        v = unit(i)
        losses.append(v)
        if math.isnan(first[0]):
            first[0] = v
    import resource
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for i in range(args.warmup, args.warmup + args.steps):
        t0 = time.perf_counter()
        v = unit(i)
        times.append(time.perf_counter() - t0)
        losses.append(v)
        if math.isnan(first[0]):
            first[0] = v
        last[0] = v

    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / float(args.steps)
    if args.profile_out:
        with torch.autograd.profiler.profile(record_shapes=True) as prof:
            for i in range(3):  # dev.retain.bench.Profile.UNITS
                unit(args.warmup + args.steps + i)
        prof.export_chrome_trace(args.profile_out)

    opt_bytes = 0
    if optimizer is not None:
        for st in optimizer.state.values():
            for k in ("exp_avg", "exp_avg_sq"):
                if k in st:
                    opt_bytes += st[k].numel() * st[k].element_size()
    grad_bytes = sum(p.numel() * 4 for p in trainable)
    total = sum(p.numel() for p in model.parameters())
    res = {
        "impl": "pytorch", "case": case, "model": args.model_label, "batch": rows, "seq": t,
        "threads": torch.get_num_threads(), "params_total": total,
        "params_trainable": sum(p.numel() for p in trainable), "units_s": times, "tokens_per_unit": tokens,
        "peak_rss": rss("VmHWM:"), "rss_baseline": rss_baseline, "rss_built": rss_built, "matmul_gflops": gflops,
        "optimizer_state_bytes": opt_bytes, "grad_bytes": grad_bytes,
        "loss_first": first[0], "loss_last": last[0], "version": "torch " + torch.__version__,
        "losses": losses,
        "minor_faults_per_unit": faults,
        "phases_s": {k: sorted(v[args.warmup:] or v)[len(v[args.warmup:] or v) // 2] for k, v in phases.items()},
    }
    print(PREFIX + json.dumps(res, allow_nan=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
