package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.tensor.Host;
import dev.retain.tensor.Ops;
import dev.retain.testutil.Tiny;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The head at the target positions only: {@link CausalLM#targetLogits} (and generation's
 * {@link CausalLM#lastLogits}) against the plain forward pass over every position, and the loss and
 * gradients against the weighted cross-entropy over every position that training computed before
 * (weights 0 where no target).
 */
class PackedInputsTest {
  static final int T = 6;
  static final long N = -100; // Packer.IGNORE

  // Row 0: one document, a prompt of two positions without a target; row 1: two documents and a pad;
  // row 2: one short document, then padding.
  static final long[] IDS = {1, 40, 41, 42, 43, 44, /* */ 1, 60, 61, 1, 70, 2, /* */ 1, 80, 81, 2, 2, 2};
  static final long[] TARGETS = {N, N, 42, 43, 44, 2, /* */ 60, 61, 2, 70, 2, N, /* */ 80, 81, 2, N, N, N};
  static final long[] POSITIONS = {0, 1, 2, 3, 4, 5, /* */ 0, 1, 2, 0, 1, 0, /* */ 0, 1, 2, 0, 0, 0};
  static final int[][] SEGMENTS = {{0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 1, -1}, {0, 0, 0, -1, -1, -1}};

  @Test
  void targetPositionsByHand() {
    try (CausalLM model = Tiny.model(1); NDManager m = model.manager().newSubManager()) {
      PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, TARGETS);
      assertEquals(3, in.rows);
      assertEquals(12, in.count());
      assertArrayEquals(new long[] {2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14}, in.at.toLongArray());
      assertArrayEquals(new long[] {42, 43, 44, 2, 60, 61, 2, 70, 2, 80, 81, 2}, in.targets.toLongArray());
      assertEquals(4, in.countInRow(0));
      assertEquals(5, in.countInRow(1));
      assertEquals(3, in.countInRow(2));
      assertEquals(0, in.rowOf(0));
      assertEquals(1, in.rowOf(4));
      assertEquals(2, in.rowOf(11));

      PackedInputs sel = in.select(new int[] {2, 0});
      assertEquals(2, sel.rows);
      assertArrayEquals(new long[] {1, 80, 81, 2, 2, 2, 1, 40, 41, 42, 43, 44}, sel.ids.toLongArray());
      assertArrayEquals(new long[] {0, 1, 2, 0, 0, 0, 0, 1, 2, 3, 4, 5}, sel.positions.toLongArray());
      assertArrayEquals(new long[] {0, 1, 2, 8, 9, 10, 11}, sel.at.toLongArray());
      assertArrayEquals(new long[] {80, 81, 2, 42, 43, 44, 2}, sel.targets.toLongArray());
      assertEquals(new Shape(2, 1, T, T), sel.mask.getShape());

      long[] every = new long[IDS.length];
      System.arraycopy(IDS, 1, every, 0, IDS.length - 1);
      PackedInputs all = PackedInputs.of(m, T, IDS, null, null, every);
      assertNull(all.at, "every position a target: no gather");
      assertNull(all.mask);
      assertEquals(IDS.length, all.count());
    }
  }

  @Test
  void selectedRowsGiveTheSameLogitsAsInTheWholeBatch() {
    try (CausalLM model = Tiny.model(6); NDManager m = model.manager().newSubManager()) {
      int vocab = model.config.vocabSize;
      // the middle row has no target: it counts 0 and is skipped by the target positions
      long[] targets = TARGETS.clone();
      java.util.Arrays.fill(targets, T, 2 * T, N);
      PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, targets);
      assertEquals(4, in.countInRow(0));
      assertEquals(0, in.countInRow(1));
      assertEquals(3, in.countInRow(2));
      assertEquals(2, in.rowOf(4));
      float[] all = model.targetLogits(in).toFloatArray();
      // rows 2 then 0: their own mask, positions and targets give the same logits as in the whole batch
      float[] sel = model.targetLogits(in.select(new int[] {2, 0})).toFloatArray();
      int[] order = {4, 5, 6, 0, 1, 2, 3}; // row 2's target positions, then row 0's, in the whole batch
      assertEquals(order.length * vocab, sel.length);
      for (int j = 0; j < order.length; j++) {
        for (int v = 0; v < vocab; v++) {
          assertEquals(all[order[j] * vocab + v], sel[j * vocab + v], 1e-5, "target " + j + " logit " + v);
        }
      }
      // without positions and segments the selection stays plain causal rows
      PackedInputs plain = PackedInputs.of(m, T, IDS, null, null, targets).select(new int[] {0});
      assertNull(plain.positions);
      assertNull(plain.mask);
      assertEquals(4, plain.count());
    }
  }

  @Test
  void logitsAreTheForwardPassAtTheTargetPositions() {
    try (CausalLM model = Tiny.model(2); NDManager m = model.manager().newSubManager()) {
      int vocab = model.config.vocabSize;
      Shape shape = new Shape(3, T);
      float[] full = model.forward(Host.of(m, IDS, shape), Host.of(m, POSITIONS, shape), Masks.packed(m, SEGMENTS), null,
          false).logits().toFloatArray();
      PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, TARGETS);
      NDArray at = model.targetLogits(in);
      assertEquals(new Shape(12, vocab), at.getShape());
      float[] got = at.toFloatArray();
      int n = 0;
      for (int i = 0; i < TARGETS.length; i++) {
        if (TARGETS[i] == N) {
          continue;
        }
        for (int v = 0; v < vocab; v++) {
          assertEquals(full[i * vocab + v], got[n * vocab + v], 1e-5, "logit " + v + " at position " + i);
        }
        n++;
      }
    }
  }

  @Test
  void lastLogitsAreTheForwardPassAtTheLastPosition() {
    try (CausalLM model = Tiny.model(5); NDManager m = model.manager().newSubManager()) {
      int vocab = model.config.vocabSize;
      Shape shape = new Shape(3, T);
      NDArray ids = Host.of(m, IDS, shape);
      float[] full = model.forward(ids, null, null, null, false).logits().toFloatArray();
      NDArray last = model.lastLogits(ids, null, null, null);
      assertEquals(new Shape(3, vocab), last.getShape());
      float[] got = last.toFloatArray();
      for (int r = 0; r < 3; r++) {
        for (int v = 0; v < vocab; v++) {
          assertEquals(full[(r * T + T - 1) * vocab + v], got[r * vocab + v], 1e-5, "row " + r + " logit " + v);
        }
      }
    }
  }

  @Test
  void lossAndGradientsEqualTheWeightedCrossEntropyOverEveryPosition() {
    try (CausalLM model = Tiny.model(3); NDManager m = model.manager().newSubManager()) {
      model.parameters().values().forEach(p -> p.setTrainable(true));
      Step want = weightedCe(model, m);
      Step got = atTargets(model, m);
      assertEquals(want.loss(), got.loss(), 1e-6);
      assertSameGradients(want.grads(), got.grads());
      assertTrue(maxAbs(got.grads().get("lm_head.weight")) > 0, "the head has a gradient");
    }
  }

  /**
   * The last layer's o_proj and MLP run only at the target rows: with every weight training and
   * adapters on them (LoRA on every projection, a bottleneck adapter after each MLP), the loss and
   * every gradient still equal the weighted CE over every position.
   */
  @Test
  void adaptersInTheLastLayerGetTheSameGradients() {
    try (CausalLM model = Tiny.model(8); NDManager m = model.manager().newSubManager()) {
      dev.retain.peft.lora.Lora.apply(model, new dev.retain.peft.lora.LoraConfig(2, 4, 0.0, false,
          dev.retain.peft.lora.TargetModules.allLinear(), null), 3);
      dev.retain.peft.bottleneck.Bottleneck.apply(model, dev.retain.peft.bottleneck.BottleneckConfig.defaults(), 4);
      java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
      for (Parameter p : model.allParameters().values()) {
        p.setTrainable(true);
        float[] v = p.data().toFloatArray();
        boolean zero = true;
        for (float f : v) {
          zero &= f == 0f;
        }
        if (zero) { // LoRA's B and the adapter's up projection start at 0: give every path a gradient
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * 0.05);
          }
          p.set(Host.of(model.manager(), v, p.data().getShape()));
          NDScope.unregister(p.data());
        }
      }
      Step want = weightedCe(model, m);
      Step got = atTargets(model, m);
      assertEquals(want.loss(), got.loss(), 1e-6);
      Set<String> names = want.grads().keySet();
      assertTrue(names.stream().anyMatch(k -> k.contains("layers.1.mlp.down_proj.lora_A")), names.toString());
      assertTrue(names.stream().anyMatch(k -> k.contains("layers.1.mlp_adapter")), names.toString());
      for (String k : names) {
        assertTrue(maxAbs(want.grads().get(k)) > 0, k + " has a gradient");
      }
      assertSameGradients(want.grads(), got.grads());
    }
  }

  /** A step's loss and the gradients of every trainable parameter (then zeroed). */
  record Step(float loss, Map<String, float[]> grads) {}

  /** The step as training computed it before: logits everywhere, CE against 0 where no target, weighted 0 there. */
  private static Step weightedCe(CausalLM model, NDManager m) {
    long[] gatherable = new long[TARGETS.length];
    float[] w = new float[TARGETS.length];
    for (int i = 0; i < w.length; i++) {
      gatherable[i] = TARGETS[i] == N ? 0 : TARGETS[i];
      w[i] = TARGETS[i] == N ? 0f : 1f / 12;
    }
    Shape shape = new Shape(3, T);
    try (NDScope scope = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
      scope.suppressNotUsedWarning();
      NDArray logits = model.forward(Host.of(m, IDS, shape), Host.of(m, POSITIONS, shape), Masks.packed(m, SEGMENTS),
          null, false).logits();
      NDArray loss = Ops.crossEntropy(logits, Host.of(m, gatherable, shape)).mul(Host.of(m, w, shape)).sum();
      gc.backward(loss);
      return new Step(loss.getFloat(), trainableGrads(model));
    }
  }

  /** The step as training computes it now: logits at the target positions, mean CE. */
  private static Step atTargets(CausalLM model, NDManager m) {
    try (NDScope scope = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
      scope.suppressNotUsedWarning();
      PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, TARGETS);
      NDArray loss = in.loss(model.targetLogits(in)).mul(Host.scalar(m, 1f / in.count()));
      gc.backward(loss);
      return new Step(loss.getFloat(), trainableGrads(model));
    }
  }

  private static Map<String, float[]> trainableGrads(CausalLM model) {
    Map<String, Parameter> trainable = new LinkedHashMap<>();
    model.allParameters().forEach((k, p) -> {
      if (p.trainable()) {
        trainable.put(k, p);
      }
    });
    return grads(model, trainable);
  }

  /** Every tensor's gradient equal within 1e-5 of its largest entry. */
  private static void assertSameGradients(Map<String, float[]> want, Map<String, float[]> got) {
    assertEquals(want.keySet(), got.keySet());
    for (String k : want.keySet()) {
      float[] a = want.get(k);
      float[] b = got.get(k);
      double scale = Math.max(1e-7, maxAbs(a));
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], 1e-5 * scale, k + "[" + i + "]");
      }
    }
  }

  @Test
  void rowsWithoutTargetsGiveNoLoss() {
    try (CausalLM model = Tiny.model(4); NDManager m = model.manager().newSubManager()) {
      long[] none = new long[IDS.length];
      java.util.Arrays.fill(none, N);
      PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, none);
      assertEquals(0, in.count());
      assertNotNull(in.at);
      NDArray logits = model.targetLogits(in);
      assertEquals(new Shape(0, model.config.vocabSize), logits.getShape());
      assertEquals(0f, in.loss(logits).getFloat());
    }
    // with autograd: the backward runs and every gradient is zero
    try (CausalLM model = Tiny.model(4); NDManager m = model.manager().newSubManager()) {
      model.parameters().values().forEach(p -> p.setTrainable(true));
      long[] none = new long[IDS.length];
      java.util.Arrays.fill(none, N);
      try (NDScope scope = new NDScope(); GradientCollector gc = Backend.engine().newGradientCollector()) {
        scope.suppressNotUsedWarning();
        PackedInputs in = PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, none);
        gc.backward(in.loss(model.targetLogits(in)));
      }
      for (float[] g : grads(model).values()) {
        assertEquals(0.0, maxAbs(g));
      }
    }
  }

  @Test
  void mismatchedArraysAreRefused() {
    try (NDManager m = Backend.newManager()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> PackedInputs.of(m, T, IDS, POSITIONS, SEGMENTS, new long[5]));
      assertTrue(e.getMessage().contains("differ in length"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> PackedInputs.of(m, 5, IDS, null, null, TARGETS));
      assertThrows(IllegalArgumentException.class, () -> PackedInputs.of(m, T, IDS, POSITIONS, new int[2][T], TARGETS));
      int[][] ragged = {SEGMENTS[0], SEGMENTS[1], new int[T - 1]};
      assertThrows(IllegalArgumentException.class, () -> PackedInputs.of(m, T, IDS, POSITIONS, ragged, TARGETS));
    }
  }

  private static Map<String, float[]> grads(CausalLM model) {
    return grads(model, model.parameters());
  }

  private static Map<String, float[]> grads(CausalLM model, Map<String, Parameter> params) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Parameter p : params.values()) {
      out.put(p.name(), Grads.of(p.data()).toFloatArray());
      Grads.zero(p.data());
    }
    return out;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
