// Speed-up experiments behind the suggestions in BENCHMARKS.md ("Changes outside the benchmark").
// Not part of retain: a single-file program run against the built classes (Java 17 source launcher):
//
//   mvn -q -o compile dependency:copy-dependencies -DoutputDirectory=target/lib   (or ./retain once)
//   java -cp "target/classes:target/lib/*" -Dai.djl.pytorch.num_threads=1 bench/experiments/Experiments.java [base|25m]
//
// Each variant is timed as the minimum over repeats (robust to other load on the machine) and
// checked against the code retain runs today where it changes numbers.
//   1. AdamW over every weight of the model, as the trainer does it today (all temporaries held by
//      the step's NDScope), with one NDScope per parameter, and with DJL's fused adamUpdate kernel
//      (JniUtils.adamUpdate, adamw=true); resident-memory growth of each. (Since then AdamW.step is
//      one Java loop over the tensors' memory on the CPU, so "today" times that loop; the numbers in
//      bench/results/experiments.txt were taken before it.)
//   2. q, k, v as three linears versus one linear on the concatenated weight, split after; gate and
//      up likewise; forward + backward.
//   3. a training step (forward, CE, backward) with every forward tensor held to the step's end, as
//      CausalLM.forward inside the trainer's NDScope does today, against the same forward with one
//      NDScope per decoder layer that closes the layer's temporaries when the layer is done (autograd
//      keeps what backward needs through its own references); step time and peak resident memory.
//   4. the head at the target positions: a training step (forward, CE, backward) whose loss is taken
//      at a share of the positions (the last share of each row, as a completion after its prompt),
//      with logits at every position and CE weighted 0 elsewhere (as retain did before), against
//      CausalLM.targetLogits (the head at the target positions only, as retain does now); full
//      fine-tuning and LoRA q,v, shares 1.0 (the benchmark's rows), 0.3 (the bundled data) and 0.1.
//   5. the planner's activations at a share of target positions: resident memory right after the
//      forward pass and loss of a training step, minus right before it, against MemoryPlan's count of
//      what the step keeps (stepElements), for full fine-tuning, LoRA q,v and LoRA q,v on a bfloat16 base;
//      run it with every free returned to the system at once,
//      or the allocator's pooling hides what is live:
//        MALLOC_MMAP_THRESHOLD_=65536 java -cp ... bench/experiments/Experiments.java base plan
//   6. a distillation teacher's pass (CausalLM.targetLogits without autograd, loss at every position
//      but the last) in float32 and on bfloat16 copies of the linear weights (Bfloat16Copies), and the
//      same model's linear layers alone at the pass's shapes, each way: how much of the pass the
//      linears are, and what bfloat16 saves. Then the resident memory a frozen teacher adds: in
//      float32, with switchable bfloat16 copies next to it (Bfloat16Copies.of), and with copies that
//      replace its float32 linear weights (Bfloat16Copies.replacing); run it with every free returned
//      at once (MALLOC_MMAP_THRESHOLD_=65536, as for experiment 5) so that freed weights show.

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.retain.bench.BenchModels;
import dev.retain.bench.ProcStatus;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.tensor.Ops;
import dev.retain.train.AdamW;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

public class Experiments {
  static final int REPEATS = 7;

  interface Body {
    void run();
  }

  static double minMs(Body b) {
    double best = Double.MAX_VALUE;
    for (int i = 0; i < REPEATS; i++) {
      long t0 = System.nanoTime();
      b.run();
      best = Math.min(best, (System.nanoTime() - t0) / 1e6);
    }
    return best;
  }

  public static void main(String[] args) throws Exception {
    String name = args.length > 0 ? args[0] : "base";
    ModelConfig c = BenchModels.resolve(name);
    System.out.printf("model %s, threads %d, load %s%n", name, Integer.getInteger("ai.djl.pytorch.num_threads", -1),
        dev.retain.bench.Bench.loadAverage());
    if (args.length < 2 || args[1].contains("adamw")) {
      optimizer(c);
    }
    if (args.length < 2 || args[1].contains("fusion")) {
      fusion(c, 16, 128);
    }
    if (args.length < 2 || args[1].contains("scope")) {
      layerScopes(c, 16, 128);
    }
    if (args.length < 2 || args[1].contains("head")) {
      headAtTargets(c, 16, 128);
    }
    if (args.length > 1 && args[1].contains("plan")) {
      planAtTargets(c, 16, 128);
    }
    if (args.length > 1 && args[1].contains("teacher")) {
      teacherPass(c, 16, 128);
      teacherMemory(c);
    }
  }

  static void teacherMemory(ModelConfig c) {
    for (boolean replace : new boolean[] {false, true}) {
      long before = ProcStatus.rss();
      try (CausalLM teacher = ModelLoader.random(c, 1, 0.02)) {
        long loaded = ProcStatus.rss();
        try (dev.retain.model.Bfloat16Copies copies = replace ? dev.retain.model.Bfloat16Copies.replacing(teacher)
            : dev.retain.model.Bfloat16Copies.of(teacher)) {
          long after = ProcStatus.rss();
          System.out.printf("frozen teacher: float32 %+d MiB; %s %+d MiB (%d MiB in all)%n", (loaded - before) >> 20,
              replace ? "bfloat16 copies replacing its linears" : "bfloat16 copies next to them", (after - loaded) >> 20,
              (after - before) >> 20);
        }
      }
    }
  }

  static void teacherPass(ModelConfig c, int b, int t) {
    try (CausalLM model = ModelLoader.random(c, 1, 0.02);
        dev.retain.model.Bfloat16Copies copies = dev.retain.model.Bfloat16Copies.of(model)) {
      NDManager m = model.manager();
      long[] ids = dev.retain.bench.Workload.syntheticIds(b, t, c.vocabSize, 5);
      dev.retain.model.PackedInputs in = dev.retain.model.PackedInputs.of(m, t, ids, rowPositions(b, t), new int[b][t],
          promptTargets(ids, b, t, 1.0));
      JniUtils.setGradMode(false);
      NDArray x = m.randomNormal(new Shape(b * t, c.hiddenSize));
      NDArray xi = m.randomNormal(new Shape(b * t, c.intermediateSize));
      NDArray xh = m.randomNormal(new Shape(in.count(), c.hiddenSize));
      List<dev.retain.model.Linear> linears = new ArrayList<>(model.linears().values());
      Body pass32 = () -> { try (NDScope s = new NDScope()) { s.suppressNotUsedWarning(); model.targetLogits(in); } };
      Body pass16 = () -> { try (NDScope s = new NDScope()) { s.suppressNotUsedWarning(); copies.run(() -> model.targetLogits(in)); } };
      Body lin32 = () -> { try (NDScope s = new NDScope()) { s.suppressNotUsedWarning();
        linears.forEach(l -> l.forward(l.name.endsWith("down_proj") ? xi : x)); model.lmHead.forward(xh); } };
      Body lin16 = () -> copies.run(() -> { try (NDScope s = new NDScope()) { s.suppressNotUsedWarning();
        linears.forEach(l -> l.forward(l.name.endsWith("down_proj") ? xi : x)); model.lmHead.forward(xh); } return null; });
      for (int round = 0; round < (Boolean.getBoolean("memoryOnly") ? 0 : 3); round++) {
        System.out.printf("teacher pass, %d of %d positions: float32 %.1f ms, bfloat16 copies %.1f ms; its linears alone: "
            + "float32 %.1f ms, bfloat16 %.1f ms%n", in.count(), b * t, minMs(pass32), minMs(pass16), minMs(lin32), minMs(lin16));
      }
    }
  }

  /** A random model of {@code c} ready to train: LoRA r=8 on q, v, or every base weight. */
  static CausalLM trainingModel(ModelConfig c, boolean lora) {
    CausalLM model = ModelLoader.random(c, 1, 0.02);
    if (lora) {
      dev.retain.peft.lora.Lora.apply(model, new dev.retain.peft.lora.LoraConfig(8, 32, 0.0, false,
          dev.retain.peft.lora.TargetModules.names("q_proj", "v_proj"), null), 3);
    } else {
      model.parameters().values().forEach(p -> p.setTrainable(true));
    }
    return model;
  }

  /** Next-token targets on the last {@code share} of each row (a prompt before, none at the end), -100 elsewhere. */
  static long[] promptTargets(long[] ids, int b, int t, double share) {
    long[] targets = new long[b * t];
    int first = dev.retain.bench.Workload.Settings.defaults().withShape(b, t).withTargetShare(share).firstTarget();
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        targets[r * t + i] = i >= first && i < t - 1 ? ids[r * t + i + 1] : -100;
      }
    }
    return targets;
  }

  /** Positions 0..t-1 in every row. */
  static long[] rowPositions(int b, int t) {
    long[] pos = new long[b * t];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = i % t;
    }
    return pos;
  }

  static void planAtTargets(ModelConfig c, int b, int t) {
    for (int mode = 0; mode < 3; mode++) { // full, LoRA q,v, LoRA q,v on a bfloat16 base
      boolean lora = mode > 0;
      try (CausalLM model = trainingModel(c, lora);
          dev.retain.model.Bfloat16Copies copies = mode == 2 ? dev.retain.model.Bfloat16Copies.of(model) : null) {
        java.util.Set<String> targetsLora = java.util.Set.of("q_proj", "v_proj");
        NDManager m = model.manager();
        long[] ids = dev.retain.bench.Workload.syntheticIds(b, t, c.vocabSize, 5);
        long[] pos = rowPositions(b, t);
        for (double share : new double[] {1.0, 0.3}) {
          long[] targets = promptTargets(ids, b, t, share);
          long live = 0;
          int n = 0;
          for (int rep = 0; rep < 3; rep++) { // the first runs warm up libtorch's own caches
            try (NDScope s = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
              s.suppressNotUsedWarning();
              long before = ProcStatus.rss();
              dev.retain.model.PackedInputs in = dev.retain.model.PackedInputs.of(m, t, ids, pos, new int[b][t], targets);
              NDArray logits = dev.retain.model.Bfloat16Copies.run(copies, () -> model.targetLogits(in));
              NDArray loss = in.loss(logits).mul(dev.retain.tensor.Host.scalar(m, 1f / in.count()));
              logits.close(); // as the trainer does before the backward
              loss.getFloat();
              live = ProcStatus.rss() - before;
              n = in.count();
              gc.backward(loss);
            }
            model.allParameters().values().stream().filter(Parameter::trainable).forEach(p -> Grads.zero(p.data()));
          }
          dev.retain.bench.MemoryPlan plan = (lora ? dev.retain.bench.MemoryPlan.lora(c, 8, targetsLora, b, t, 0)
              : dev.retain.bench.MemoryPlan.full(c, b, t, 0)).withTargetPositions(n);
          // The copies are made before the measured pass: the plan's activations are all it adds.
          long planned = 4 * plan.stepElements();
          System.out.printf("plan, %s, loss at %d of %d positions: resident after forward + loss %.1f MiB, planned %.1f MiB (%+.1f%%)%n",
              new String[] {"full", "LoRA q,v", "LoRA q,v, bfloat16 base"}[mode], n, b * t, live / 1048576.0, planned / 1048576.0, 100.0 * (planned - live) / live);
        }
      }
    }
  }

  static void headAtTargets(ModelConfig c, int b, int t) {
    for (boolean lora : new boolean[] {false, true}) {
      try (CausalLM model = trainingModel(c, lora)) {
        NDManager m = model.manager();
        long[] ids = dev.retain.bench.Workload.syntheticIds(b, t, c.vocabSize, 5);
        long[] pos = rowPositions(b, t);
        for (double share : new double[] {1.0, 0.3, 0.1}) {
          long[] targets = promptTargets(ids, b, t, share);
          int n = (int) java.util.Arrays.stream(targets).filter(x -> x >= 0).count();
          float[] w = new float[b * t];
          for (int i = 0; i < w.length; i++) {
            w[i] = targets[i] < 0 ? 0f : 1f / n;
          }
          long[] gatherable = targets.clone();
          for (int i = 0; i < gatherable.length; i++) {
            gatherable[i] = Math.max(0, gatherable[i]);
          }
          double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
          for (int rep = 0; rep < REPEATS; rep++) {
            for (int v = 0; v < 2; v++) {
              long t0 = System.nanoTime();
              try (NDScope s = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
                s.suppressNotUsedWarning();
                NDArray loss;
                if (v == 0) {
                  Shape sh = new Shape(b, t);
                  NDArray logits = model.forward(dev.retain.tensor.Host.of(m, ids, sh), dev.retain.tensor.Host.of(m, pos, sh),
                      dev.retain.model.Masks.packed(m, new int[b][t]), null, false).logits();
                  loss = Ops.crossEntropy(logits, dev.retain.tensor.Host.of(m, gatherable, sh))
                      .mul(dev.retain.tensor.Host.of(m, w, sh)).sum();
                } else {
                  dev.retain.model.PackedInputs in = dev.retain.model.PackedInputs.of(m, t, ids, pos, new int[b][t], targets);
                  loss = in.loss(model.targetLogits(in)).mul(dev.retain.tensor.Host.scalar(m, 1f / n));
                }
                gc.backward(loss);
              }
              best[v] = Math.min(best[v], (System.nanoTime() - t0) / 1e6);
              model.allParameters().values().stream().filter(Parameter::trainable).forEach(p -> Grads.zero(p.data()));
            }
          }
          System.out.printf("head, %s, loss at %d of %d positions: every position %.1f ms, target positions %.1f ms (%.2fx)%n",
              lora ? "LoRA q,v" : "full", n, b * t, best[0], best[1], best[0] / best[1]);
        }
      }
    }
  }

  /** The forward of CausalLM, written out with the public parts; layerScope closes each layer's temporaries. */
  static NDArray forward(CausalLM model, NDArray ids, NDArray cos, NDArray sin, NDArray mask, boolean layerScope,
      List<NDArray> keep) {
    ModelConfig c = model.config;
    long b = ids.getShape().get(0);
    long t = ids.getShape().get(1);
    float scale = (float) (1.0 / Math.sqrt(c.headDim));
    NDArray x = Ops.embedding(ids, model.embedTokens.data());
    for (CausalLM.Layer layer : model.layers) {
      NDScope scope = layerScope ? new NDScope() : null;
      try {
        NDArray h = Ops.rmsNorm(x, layer.inputLayernorm.data(), c.rmsNormEps);
        NDArray q = layer.qProj.forward(h).reshape(b, t, c.numHeads, c.headDim).transpose(0, 2, 1, 3);
        NDArray k = layer.kProj.forward(h).reshape(b, t, c.numKvHeads, c.headDim).transpose(0, 2, 1, 3);
        NDArray v = layer.vProj.forward(h).reshape(b, t, c.numKvHeads, c.headDim).transpose(0, 2, 1, 3);
        q = Ops.rope(q, cos, sin);
        k = Ops.rope(k, cos, sin);
        NDArray attn = Ops.attention(q, k, v, mask, scale).transpose(0, 2, 1, 3).reshape(b, t, (long) c.numHeads * c.headDim);
        x = x.add(layer.oProj.forward(attn));
        h = Ops.rmsNorm(x, layer.postAttentionLayernorm.data(), c.rmsNormEps);
        x = x.add(layer.downProj.forward(Ops.silu(layer.gateProj.forward(h)).mul(layer.upProj.forward(h))));
        if (layerScope) {
          NDScope.unregister(x);
          keep.add(x);
        }
      } finally {
        if (scope != null) {
          scope.close();
        }
      }
    }
    x = Ops.rmsNorm(x, model.norm.data(), c.rmsNormEps);
    return model.lmHead.forward(x);
  }

  static void layerScopes(ModelConfig c, int b, int t) {
    try (CausalLM model = ModelLoader.random(c, 1, 0.02)) {
      model.parameters().values().forEach(p -> p.setTrainable(true));
      NDManager m = model.manager();
      int half = c.headDim / 2;
      float[] cs = new float[t * c.headDim];
      float[] sn = new float[t * c.headDim];
      for (int p = 0; p < t; p++) {
        for (int i = 0; i < half; i++) {
          double f = p / Math.pow(c.ropeTheta, 2.0 * i / c.headDim);
          cs[p * c.headDim + i] = cs[p * c.headDim + half + i] = (float) Math.cos(f);
          sn[p * c.headDim + i] = sn[p * c.headDim + half + i] = (float) Math.sin(f);
        }
      }
      NDArray cos = m.create(cs, new Shape(1, 1, t, c.headDim));
      NDArray sin = m.create(sn, new Shape(1, 1, t, c.headDim));
      NDArray mask = dev.retain.model.Masks.causal(m, t, 0);
      NDScope.unregister(cos, sin, mask);
      long[] idv = dev.retain.bench.Workload.syntheticIds(b, t, c.vocabSize, 5);
      for (boolean scoped : new boolean[] {true, false}) {
        double ms = minMs(() -> {
          List<NDArray> keep = new ArrayList<>();
          try (NDScope s = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
            s.suppressNotUsedWarning();
            NDArray ids = m.create(idv, new Shape(b, t));
            NDArray logits = forward(model, ids, cos, sin, mask, scoped, keep);
            gc.backward(Ops.crossEntropy(logits, ids).mean());
          }
          keep.forEach(NDArray::close);
          model.parameters().values().forEach(p -> Grads.zero(p.data()));
        });
        System.out.printf("forward+CE+backward, %s: %.1f ms, peak RSS so far %d MiB%n",
            scoped ? "one NDScope per layer" : "every tensor held to the step's end (today)", ms, ProcStatus.peakRss() >> 20);
      }
    }
  }

  /** Gives every parameter a gradient (one backward through a cheap function of all of them). */
  static void fakeGrads(CausalLM model) {
    try (NDScope s = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
      s.suppressNotUsedWarning();
      NDArray total = null;
      for (Parameter p : model.parameters().values()) {
        NDArray v = p.data().mul(p.data()).sum();
        total = total == null ? v : total.add(v);
      }
      gc.backward(total);
    }
  }

  static void optimizer(ModelConfig c) {
    try (CausalLM model = ModelLoader.random(c, 1, 0.02)) {
      Map<String, Parameter> ps = model.parameters();
      ps.values().forEach(p -> p.setTrainable(true));
      fakeGrads(model);
      AdamW.Group decay = new AdamW.Group(1.0, 0.01);
      AdamW.Group none = new AdamW.Group(1.0, 0.0);

      AdamW today = new AdamW(0.9, 0.999, 1e-8);
      long rss0 = ProcStatus.rss();
      double tToday = minMs(() -> {
        try (NDScope s = new NDScope()) {
          s.suppressNotUsedWarning();
          for (Parameter p : ps.values()) {
            today.step(p, Grads.of(p.data()), 1e-4, p.data().getShape().dimension() == 1 ? none : decay);
          }
        }
      });
      long rssToday = ProcStatus.peakRss() - rss0;

      AdamW scoped = new AdamW(0.9, 0.999, 1e-8);
      double tScoped = minMs(() -> {
        for (Parameter p : ps.values()) {
          try (NDScope s = new NDScope()) {
            s.suppressNotUsedWarning();
            scoped.step(p, Grads.of(p.data()), 1e-4, p.data().getShape().dimension() == 1 ? none : decay);
          }
        }
      });

      // Fused kernel: DJL's adamUpdate (libtorch in-place ops, no temporaries left to the scope).
      List<NDArray[]> state = new ArrayList<>();
      for (Parameter p : ps.values()) {
        NDArray m = p.data().zerosLike();
        NDArray v = p.data().zerosLike();
        NDScope.unregister(m, v);
        state.add(new NDArray[] {m, v});
      }
      long[] t = {0};
      double tFused = minMs(() -> {
        t[0]++;
        double bc1 = 1 - Math.pow(0.9, t[0]);
        double bc2 = 1 - Math.pow(0.999, t[0]);
        int i = 0;
        try (NDScope s = new NDScope()) {
          s.suppressNotUsedWarning();
          for (Parameter p : ps.values()) {
            NDArray[] mv = state.get(i++);
            float wd = p.data().getShape().dimension() == 1 ? 0f : 0.01f;
            // torch's AdamW: w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps); the kernel divides by sqrt(v) + eps',
            // so pass lr * sqrt(bc2) / bc1 and eps' = eps * sqrt(bc2).
            JniUtils.adamUpdate((PtNDArray) p.data(), (PtNDArray) Grads.of(p.data()), (PtNDArray) mv[0], (PtNDArray) mv[1],
                1e-4f, (float) (1e-4 * Math.sqrt(bc2) / bc1), wd, 1f, -1f, 0.9f, 0.999f, (float) (1e-8 * Math.sqrt(bc2)), true);
          }
        }
      });
      long n = ps.values().stream().mapToLong(Parameter::numel).sum();
      System.out.printf("AdamW over %,d weights (%d tensors): today %.1f ms (peak RSS +%d MiB while the scope is open); "
          + "one scope per parameter %.1f ms; fused adamUpdate %.1f ms%n", n, ps.size(), tToday, rssToday >> 20, tScoped, tFused);
      checkFused(c);
    }
  }

  /** One step of the fused kernel against AdamW.step on the same weights and gradients. */
  static void checkFused(ModelConfig c) {
    try (CausalLM a = ModelLoader.random(c, 3, 0.02); CausalLM b = ModelLoader.random(c, 3, 0.02)) {
      a.parameters().values().forEach(p -> p.setTrainable(true));
      b.parameters().values().forEach(p -> p.setTrainable(true));
      fakeGrads(a);
      fakeGrads(b);
      AdamW opt = new AdamW(0.9, 0.999, 1e-8);
      double worst = 0;
      try (NDScope s = new NDScope()) {
        s.suppressNotUsedWarning();
        for (int step = 1; step <= 2; step++) {
          double bc1 = 1 - Math.pow(0.9, step);
          double bc2 = 1 - Math.pow(0.999, step);
          for (String k : a.parameters().keySet()) {
            Parameter pa = a.parameters().get(k);
            Parameter pb = b.parameters().get(k);
            float wd = pa.data().getShape().dimension() == 1 ? 0f : 0.01f;
            opt.step(pa, Grads.of(pa.data()), 1e-3, new AdamW.Group(1.0, wd));
            NDArray[] mv = MV.computeIfAbsent(k, x -> {
              NDArray m = pb.data().zerosLike();
              NDArray v = pb.data().zerosLike();
              NDScope.unregister(m, v);
              return new NDArray[] {m, v};
            });
            JniUtils.adamUpdate((PtNDArray) pb.data(), (PtNDArray) Grads.of(pb.data()), (PtNDArray) mv[0], (PtNDArray) mv[1],
                1e-3f, (float) (1e-3 * Math.sqrt(bc2) / bc1), wd, 1f, -1f, 0.9f, 0.999f, (float) (1e-8 * Math.sqrt(bc2)), true);
          }
        }
        for (String k : a.parameters().keySet()) {
          float[] x = a.parameters().get(k).data().toFloatArray();
          float[] y = b.parameters().get(k).data().toFloatArray();
          for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(x[i] - y[i]));
          }
        }
      }
      System.out.printf("fused adamUpdate vs AdamW.step after 2 steps at lr 1e-3: max |difference| %.2e%n", worst);
    }
  }

  static final Map<String, NDArray[]> MV = new java.util.HashMap<>();

  static void fusion(ModelConfig c, int b, int t) {
    try (NDManager m = Backend.newManager()) {
      long d = c.hiddenSize;
      long f = c.intermediateSize;
      NDArray h = m.randomNormal(new Shape(b, t, d));
      h.setRequiresGradient(true);
      NDArray wq = m.randomNormal(0, 0.02f, new Shape(d, d), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray wk = m.randomNormal(0, 0.02f, new Shape(d, d), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray wv = m.randomNormal(0, 0.02f, new Shape(d, d), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray wqkv = wq.concat(wk, 0).concat(wv, 0);
      NDArray wg = m.randomNormal(0, 0.02f, new Shape(f, d), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray wu = m.randomNormal(0, 0.02f, new Shape(f, d), ai.djl.ndarray.types.DataType.FLOAT32);
      NDArray wgu = wg.concat(wu, 0);
      for (NDArray w : new NDArray[] {wq, wk, wv, wqkv, wg, wu, wgu}) {
        w.setRequiresGradient(true);
      }
      double sep = minMs(() -> fb(() -> {
        NDArray q = Ops.linear(h, wq, null);
        NDArray k = Ops.linear(h, wk, null);
        NDArray v = Ops.linear(h, wv, null);
        return q.sum().add(k.sum()).add(v.sum());
      }, wq, wk, wv, h));
      double fused = minMs(() -> fb(() -> {
        NDList qkv = Ops.linear(h, wqkv, null).split(3, 2);
        return qkv.get(0).sum().add(qkv.get(1).sum()).add(qkv.get(2).sum());
      }, wqkv, h));
      double sepMlp = minMs(() -> fb(() -> {
        NDArray g = Ops.linear(h, wg, null);
        NDArray u = Ops.linear(h, wu, null);
        return Ops.silu(g).mul(u).sum();
      }, wg, wu, h));
      double fusedMlp = minMs(() -> fb(() -> {
        NDList gu = Ops.linear(h, wgu, null).split(2, 2);
        return Ops.silu(gu.get(0)).mul(gu.get(1)).sum();
      }, wgu, h));
      System.out.printf("q,k,v forward+backward at [%d,%d,%d]: three linears %.2f ms, one fused linear %.2f ms (per layer)%n",
          b, t, d, sep, fused);
      System.out.printf("gate,up + SwiGLU forward+backward: two linears %.2f ms, one fused linear %.2f ms (per layer)%n",
          sepMlp, fusedMlp);
    }
  }

  interface Loss {
    NDArray get();
  }

  static void fb(Loss loss, NDArray... zero) {
    try (NDScope s = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
      s.suppressNotUsedWarning();
      gc.backward(loss.get());
      for (NDArray z : zero) {
        Grads.zero(z);
      }
    }
  }
}
