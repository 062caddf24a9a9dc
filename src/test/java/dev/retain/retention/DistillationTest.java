package dev.retain.retention;

import static dev.retain.retention.Support.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.retain.data.Batch;
import dev.retain.data.Packer;
import dev.retain.model.Bfloat16Copies;
import dev.retain.model.CausalLM;
import dev.retain.model.Masks;
import dev.retain.model.PackedInputs;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Consts;
import dev.retain.testutil.Tiny;
import dev.retain.train.StepContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Distillation against a direct KL computation in plain Java on the logits. */
class DistillationTest {
  static final long IGN = Packer.IGNORE;
  static final int T = 6;

  /** Three packed rows: domain (one document), general (two documents), domain (padded). */
  static Batch batch() {
    long[] ids = {1, 40, 41, 42, 43, 44, /* */ 1, 60, 61, 1, 70, 2, /* */ 1, 80, 81, 2, 2, 2};
    long[] targets = {IGN, IGN, 42, 43, 44, 2, /* */ 60, 61, 2, 70, 2, IGN, /* */ 80, 81, 2, IGN, IGN, IGN};
    long[] positions = {0, 1, 2, 3, 4, 5, /* */ 0, 1, 2, 0, 1, 0, /* */ 0, 1, 2, 0, 0, 0};
    int[][] segments = {{0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 1, -1}, {0, 0, 0, -1, -1, -1}};
    return new Batch(0, 0, T, ids, targets, positions, segments, new String[] {"domain", "general", "domain"}, 12, 4);
  }

  /** A step context as the trainer builds it, with the student's logits at the target positions in the graph. */
  static StepContext step(CausalLM model, Batch b) {
    PackedInputs in = PackedInputs.of(model.manager(), b.seqLen(), b.inputIds(), b.positions(), b.segments(), b.targets());
    return new StepContext(0, model, b, in, model.targetLogits(in), Map.of(), 1e-3);
  }

  /** The model's logits at every position [rows, T, V], by the plain forward pass (the reference). */
  static float[] logits(CausalLM model, Batch b) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDManager m = model.manager();
      Shape shape = new Shape(b.rows(), b.seqLen());
      return model.forward(m.create(b.inputIds(), shape), m.create(b.positions(), shape), Masks.packed(m, b.segments()),
          null, false).logits().toFloatArray();
    }
  }

  /** weight * T^2 * mean over target positions of the chosen rows of KL(softmax(t/T) || softmax(s/T)), in double. */
  static double kl(float[] student, float[] teacher, Batch b, int vocab, double temp, double weight, Set<Integer> rows) {
    double sum = 0;
    int count = 0;
    for (int r : rows) {
      for (int t = 0; t < T; t++) {
        if (b.targets()[r * T + t] == IGN) {
          continue;
        }
        int base = (r * T + t) * vocab;
        double[] lq = logSoftmax(student, base, vocab, temp);
        double[] lp = logSoftmax(teacher, base, vocab, temp);
        double k = 0;
        for (int v = 0; v < vocab; v++) {
          k += Math.exp(lp[v]) * (lp[v] - lq[v]);
        }
        sum += k;
        count++;
      }
    }
    return weight * temp * temp * sum / count;
  }

  static double[] logSoftmax(float[] z, int base, int n, double temp) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, z[base + i] / temp);
    }
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += Math.exp(z[base + i] / temp - max);
    }
    double lse = max + Math.log(s);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = z[base + i] / temp - lse;
    }
    return out;
  }

  /** Value and gradients of the term for the batch (then zeroed). */
  static Support.Eval eval(Distillation kd, CausalLM model, Batch b, List<Parameter> params) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      double value;
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        NDArray v = kd.loss(step(model, b));
        if (v == null) {
          return null;
        }
        value = v.getFloat();
        gc.backward(v);
      }
      return new Support.Eval(value, Support.takeGrads(params));
    }
  }

  /** The adapter with both of its matrices training. */
  static TestLoRA trainable(TestLoRA lora) {
    lora.a.setTrainable(true);
    lora.b.setTrainable(true);
    return lora;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  @Test
  void valueMatchesADirectKlAtT2AndRowSelectionWorks() {
    Batch b = batch();
    try (CausalLM model = Tiny.model(8)) {
      int vocab = model.config.vocabSize;
      TestLoRA lora = TestLoRA.attach(model.layers.get(1).vProj, 2, 2f, 0.5, 0.5, 5);
      TestLoRA.attach(model.layers.get(0).gateProj, 2, 2f, 0.5, 0.5, 6);
      lora.a.setTrainable(true);
      lora.b.setTrainable(true);
      float[] student = logits(model, b);
      model.setAdaptersEnabled(false);
      float[] teacher = logits(model, b);
      model.setAdaptersEnabled(true);
      Set<String> general = Set.of("general");
      double all = kl(student, teacher, b, vocab, 2, 0.7, Set.of(0, 1, 2));
      double gen = kl(student, teacher, b, vocab, 2, 0.7, Set.of(1));
      double dom = kl(student, teacher, b, vocab, 2, 0.7, Set.of(0, 2));
      assertTrue(all > 1e-4 && gen > 1e-4 && dom > 1e-4, all + " " + gen + " " + dom);

      Support.Eval e = eval(new Distillation(0.7, 2, Distillation.On.ALL, general), model, b, List.of(lora.a, lora.b));
      assertClose(all, e.value(), 1e-4, "KD on all rows");
      assertTrue(maxAbs(e.grads().get(lora.b.name())) > 1e-6, "KD has a gradient");
      assertClose(gen, eval(new Distillation(0.7, 2, Distillation.On.GENERAL, general), model, b, List.of()).value(), 1e-4,
          "KD on general rows");
      assertClose(dom, eval(new Distillation(0.7, 2, Distillation.On.DOMAIN, general), model, b, List.of()).value(), 1e-4,
          "KD on domain rows");
      // Means over 12 = 5 general + 7 domain target positions.
      assertClose(all * 12, gen * 5 + dom * 7, 1e-6, "the parts add up");
      assertNull(eval(new Distillation(0.7, 2, Distillation.On.GENERAL, Set.of("other")), model, b, List.of()),
          "no chosen row: no contribution");
      assertTrue(lora.enabled(), "adapters are back on after the teacher pass");
    }
  }

  /** The batch with a fourth, domain row that has no target at all (a prompt cut off by the row's end). */
  static Batch batchWithEmptyRow() {
    Batch b = batch();
    long[] ids = java.util.Arrays.copyOf(b.inputIds(), 4 * T);
    long[] targets = java.util.Arrays.copyOf(b.targets(), 4 * T);
    long[] positions = java.util.Arrays.copyOf(b.positions(), 4 * T);
    long[] row = {1, 90, 91, 92, 93, 94};
    for (int i = 0; i < T; i++) {
      ids[3 * T + i] = row[i];
      targets[3 * T + i] = IGN;
      positions[3 * T + i] = i;
    }
    int[][] segments = {b.segments()[0], b.segments()[1], b.segments()[2], {0, 0, 0, 0, 0, 0}};
    return new Batch(0, 0, T, ids, targets, positions, segments, new String[] {"domain", "general", "domain", "domain"},
        12, 5);
  }

  /**
   * The term's value and gradients against the formula over full logits: student and teacher logits at
   * every position, KL weighted 1/count at the chosen rows' target positions and 0 elsewhere (what
   * retain computed before the head ran at the target positions only).
   */
  @Test
  void gradientsMatchTheFormulaOverEveryPosition() {
    Batch b = batchWithEmptyRow();
    try (CausalLM model = Tiny.model(13)) {
      TestLoRA lora = trainable(TestLoRA.attach(model.layers.get(1).vProj, 2, 2f, 0.5, 0.5, 5));
      List<Parameter> params = List.of(lora.a, lora.b);
      Set<String> general = Set.of("general");
      for (Distillation.On on : Distillation.On.values()) {
        Distillation kd = new Distillation(0.7, 2, on, general);
        Support.Eval got = eval(kd, model, b, params);
        Support.Eval want = fullLogitsReference(model, b, kd, params);
        assertClose(want.value(), got.value(), 1e-5, on + ": value");
        for (Parameter p : params) {
          float[] w = want.grads().get(p.name());
          float[] g = got.grads().get(p.name());
          double scale = maxAbs(w);
          assertTrue(scale > 1e-7, on + ": " + p.name() + " has a gradient");
          for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], g[i], 1e-4 * scale, on + ": " + p.name() + "[" + i + "]");
          }
        }
      }
    }
  }

  static Support.Eval fullLogitsReference(CausalLM model, Batch b, Distillation kd, List<Parameter> params) {
    NDManager m = model.manager();
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Shape shape = new Shape(b.rows(), b.seqLen());
      NDArray ids = m.create(b.inputIds(), shape);
      NDArray pos = m.create(b.positions(), shape);
      NDArray mask = Masks.packed(m, b.segments());
      model.setAdaptersEnabled(false);
      NDArray teacher = model.forward(ids, pos, mask, null, false).logits(); // outside the collector: no graph
      model.setAdaptersEnabled(true);
      float[] w = new float[b.rows() * T];
      int count = 0;
      for (int r = 0; r < b.rows(); r++) {
        for (int t = 0; t < T; t++) {
          count += kd.selected(b, r) && b.targets()[r * T + t] != IGN ? 1 : 0;
        }
      }
      for (int r = 0; r < b.rows(); r++) {
        for (int t = 0; t < T; t++) {
          w[r * T + t] = kd.selected(b, r) && b.targets()[r * T + t] != IGN ? 1f / count : 0f;
        }
      }
      double value;
      try (GradientCollector gc = Backend.engine().newGradientCollector()) {
        NDArray student = model.forward(ids, pos, mask, null, false).logits();
        NDArray invT = Consts.of((float) (1 / kd.temperature()));
        NDArray logQ = student.mul(invT).logSoftmax(-1);
        NDArray logP = teacher.mul(invT).logSoftmax(-1);
        NDArray kl = logP.exp().mul(logP.sub(logQ)).sum(new int[] {-1});
        NDArray loss = kl.mul(m.create(w, shape)).sum()
            .mul(Consts.of((float) (kd.temperature() * kd.temperature() * kd.weight())));
        value = loss.getFloat();
        gc.backward(loss);
      }
      return new Support.Eval(value, Support.takeGrads(params));
    }
  }

  @Test
  void lossAndGradientAreZeroWhenStudentEqualsTeacher() {
    Batch b = batch();
    try (CausalLM model = Tiny.model(9)) {
      TestLoRA lora = trainable(TestLoRA.attach(model.layers.get(0).qProj, 2, 2f, 0.5, 0.0, 5)); // B = 0: no change yet
      Support.Eval e = eval(new Distillation(1.0, 2, Distillation.On.ALL, Set.of()), model, b, List.of(lora.a, lora.b));
      assertEquals(0.0, e.value(), 1e-6);
      assertTrue(maxAbs(e.grads().get(lora.a.name())) < 1e-7);
      assertTrue(maxAbs(e.grads().get(lora.b.name())) < 1e-7);
    }
  }

  @Test
  void teacherPassWithAdaptersOffEqualsTheBaseModel() {
    Batch b = batch();
    try (CausalLM base = Tiny.model(10); CausalLM model = Tiny.model(10)) {
      float[] want = logits(base, b);
      TestLoRA.attach(model.layers.get(0).qProj, 2, 2f, 0.5, 0.5, 5);
      TestLoRA off = TestLoRA.attach(model.layers.get(1).upProj, 2, 2f, 0.5, 0.5, 6);
      off.setEnabled(false); // already off before: must stay off
      float[] studentBefore = logits(model, b);
      Distillation kd = new Distillation(1, 1, Distillation.On.ALL, Set.of());
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        StepContext ctx = step(model, b);
        float[] got = kd.teacherLogits(model, ctx.inputs).toFloatArray();
        int vocab = model.config.vocabSize;
        int n = 0;
        for (int i = 0; i < b.targets().length; i++) {
          if (b.targets()[i] == IGN) {
            continue;
          }
          for (int v = 0; v < vocab; v++) {
            assertEquals(want[i * vocab + v], got[n * vocab + v], 1e-5, "teacher logit " + v + " at position " + i);
          }
          n++;
        }
        assertEquals(b.targetTokens() * vocab, got.length, "the teacher's logits are the target positions'");
      }
      float[] studentAfter = logits(model, b);
      assertArrayEquals(studentBefore, studentAfter);
      assertTrue(!off.enabled(), "an adapter that was off stays off");
    }
  }

  @Test
  void frozenCopyAsTeacherForFullFineTuning() {
    Batch b = batch();
    try (CausalLM teacher = Tiny.model(11); CausalLM model = Tiny.model(11)) {
      Parameter norm = model.parameters().get("model.norm.weight");
      norm.setTrainable(true);
      Distillation kd = new Distillation(teacher, 0.5, 2, Distillation.On.ALL, Set.of());
      Support.Eval same = eval(kd, model, b, List.of(norm));
      assertEquals(0.0, same.value(), 1e-6);
      assertTrue(maxAbs(same.grads().get(norm.name())) < 1e-7);
      float[] v = norm.data().toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] *= 1 + 0.3f * ((i % 3) - 1);
      }
      Support.set(norm, v);
      double want = kl(logits(model, b), logits(teacher, b), b, model.config.vocabSize, 2, 0.5, Set.of(0, 1, 2));
      Support.Eval moved = eval(kd, model, b, List.of(norm));
      assertTrue(want > 1e-5);
      assertClose(want, moved.value(), 1e-4, "KD against the frozen copy");
      assertTrue(maxAbs(moved.grads().get(norm.name())) > 1e-6);
      for (Parameter p : teacher.parameters().values()) {
        assertTrue(!p.trainable());
      }
    }
  }

  /**
   * The teacher on bfloat16 copies: value and gradients within a few percent of the float32 teacher's,
   * small but not exactly zero for a student equal to the teacher, and the model back on float32 after.
   */
  @Test
  void bfloat16TeacherStaysCloseToTheFloat32Teacher() {
    Batch b = batchWithEmptyRow();
    try (CausalLM model = Tiny.model(14); Bfloat16Copies copies = Bfloat16Copies.of(model)) {
      TestLoRA lora = trainable(TestLoRA.attach(model.layers.get(1).vProj, 2, 2f, 0.5, 0.0, 5)); // B = 0: student = teacher
      List<Parameter> params = List.of(lora.a, lora.b);
      Distillation f32 = new Distillation(0.7, 2, Distillation.On.ALL, Set.of());
      Distillation bf = f32.withBfloat16Teacher(copies);
      assertTrue(bf.describe().contains("bfloat16"), bf.describe());
      double same = eval(bf, model, b, params).value();
      assertTrue(same >= 0 && same < 1e-4, "student = teacher: " + same);

      Support.set(lora.b, ramp((int) lora.b.data().size()));
      float[] studentBefore = logits(model, b);
      // Exactly the KL to the bfloat16 teacher's logits: the base model on the copies, adapters off.
      model.setAdaptersEnabled(false);
      float[] teacher16 = NoGrad.get(() -> copies.run(() -> logits(model, b)));
      model.setAdaptersEnabled(true);
      double exact = kl(studentBefore, teacher16, b, model.config.vocabSize, 2, 0.7, Set.of(0, 1, 2, 3));
      Support.Eval want = eval(f32, model, b, params);
      Support.Eval got = eval(bf, model, b, params);
      assertClose(exact, got.value(), 1e-4, "KD value against the bfloat16 teacher's logits");
      assertTrue(want.value() > 1e-3, "the student moved: " + want.value());
      assertClose(want.value(), got.value(), 0.05, "KD value, bfloat16 teacher");
      for (Parameter p : params) {
        float[] w = want.grads().get(p.name());
        float[] g = got.grads().get(p.name());
        double scale = maxAbs(w);
        for (int i = 0; i < w.length; i++) {
          assertEquals(w[i], g[i], 0.05 * scale, p.name() + "[" + i + "]");
        }
      }
      assertArrayEquals(studentBefore, logits(model, b), "float32 and adapters back on");
    }
  }

  static float[] ramp(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = 0.4f * (float) Math.sin(1.7 * i + 0.3);
    }
    return v;
  }

  /**
   * The trainer calls a term in a scope of its own (LossTerm.scopedLoss): the teacher's logits and the
   * KL's intermediates close as soon as the value exists, and the backward still finds what it saved:
   * the same value and gradients as the plain call, with fewer arrays left open in the step.
   */
  @Test
  void aScopedCallGivesTheSameGradientsAndFreesTheTeacherAtOnce() {
    Batch b = batch();
    try (CausalLM model = Tiny.model(16)) {
      TestLoRA lora = trainable(TestLoRA.attach(model.layers.get(1).vProj, 2, 2f, 0.5, 0.5, 5));
      List<Parameter> params = List.of(lora.a, lora.b);
      Distillation kd = new Distillation(0.7, 2, Distillation.On.ALL, Set.of());
      double[] value = new double[2];
      int[] open = new int[2];
      List<Map<String, float[]>> grads = new java.util.ArrayList<>();
      for (int i = 0; i < 2; i++) {
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          int before = model.manager().getManagedArrays().size();
          try (GradientCollector gc = Backend.engine().newGradientCollector()) {
            StepContext ctx = step(model, b);
            NDArray v = i == 0 ? kd.loss(ctx) : dev.retain.train.LossTerm.scopedLoss(kd, ctx);
            open[i] = model.manager().getManagedArrays().size() - before;
            System.gc(); // closed handles must not matter to the backward (djl-notes.md, pitfall 1)
            value[i] = v.getFloat();
            gc.backward(v);
          }
          grads.add(Support.takeGrads(params));
        }
      }
      assertEquals(value[0], value[1], 0.0, "the same value");
      for (Parameter p : params) {
        assertArrayEquals(grads.get(0).get(p.name()), grads.get(1).get(p.name()), p.name());
      }
      assertTrue(open[1] < open[0] - 5, "the scoped call leaves fewer arrays open: " + open[1] + " against " + open[0]);
    }
  }

  @Test
  void bfloat16CopiesMustBeOfTheTeacher() {
    try (CausalLM teacher = Tiny.model(15); CausalLM model = Tiny.model(15); Bfloat16Copies ofModel = Bfloat16Copies.of(model)) {
      assertThrows(IllegalArgumentException.class,
          () -> new Distillation(teacher, 1, 2, Distillation.On.ALL, Set.of()).withBfloat16Teacher(ofModel));
      TestLoRA.attach(teacher.layers.get(0).qProj, 2, 2f, 0.5, 0.5, 5);
      Distillation kd = new Distillation(1, 2, Distillation.On.ALL, Set.of()).withBfloat16Teacher(ofModel);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> eval(kd, teacher, batch(), List.of()));
      assertTrue(e.getMessage().contains("another model"), e.getMessage());
    }
  }

  @Test
  void withoutAdaptersOrTeacherItSaysSo() {
    try (CausalLM model = Tiny.model(12)) {
      Distillation kd = new Distillation(1, 2, Distillation.On.ALL, Set.of());
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> eval(kd, model, batch(), List.of()));
      assertTrue(e.getMessage().contains("frozen copy"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Distillation.On.parse("half"));
    assertEquals(Distillation.On.GENERAL, Distillation.On.parse("General"));
    assertThrows(IllegalArgumentException.class, () -> new Distillation(1, 0, Distillation.On.ALL, Set.of()));
    assertThrows(IllegalArgumentException.class, () -> new Distillation(1, 2, Distillation.On.GENERAL, Set.of()));
  }
}
