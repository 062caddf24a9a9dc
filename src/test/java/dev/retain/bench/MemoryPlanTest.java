package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.PackedInputs;
import dev.retain.tensor.Backend;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The memory plan's formulas against hand counts, and against the tensors a real forward pass creates. */
class MemoryPlanTest {
  @Test
  void savedTensorsMatchAHandCount() {
    // B 2, T 3, hidden 4, FFN 6, 2 heads of 2 (no GQA), vocab 10, 2 layers
    ModelConfig c = FlopsTest.tiny();
    long bt = 6;
    long scores = 2 * 2 * 3 * 3;
    // what every mode keeps: norm statistics, q/k^T/v copies, softmax output, the middle residual,
    // gate, sigmoid, silu, up
    long common = 2 * 2 * bt + 3 * bt * 4 + scores + bt * 4 + 4 * bt * 6;
    MemoryPlan full = MemoryPlan.full(c, 2, 3, 0);
    // full: both norms' x * inv-rms and outputs, o_proj's input, the SwiGLU product
    assertEquals(common + 2 * bt * 4 + 2 * bt * 4 + bt * 4 + bt * 6, full.layerSavedElements());
    // LoRA r=1 on q and v: the first norm's output (A reads it) and each adapter's scaled A x
    MemoryPlan qv = MemoryPlan.lora(c, 1, Set.of("q_proj", "v_proj"), 2, 3, 0);
    assertEquals(common + bt * 4 + 2 * bt, qv.layerSavedElements());
    // on every linear: both norms' outputs, o_proj's input, the product, seven A x
    MemoryPlan all = MemoryPlan.lora(c, 1,
        Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 2, 3, 0);
    assertEquals(common + 2 * bt * 4 + bt * 4 + bt * 6 + 7 * bt, all.layerSavedElements());
    // embedding and 2 layer outputs, rotary tables, mask, ids/positions/targets (int64), the final
    // norm's square, x * inv-rms, output and statistics, log-softmax (the raw logits close), picked and negated
    long held = 3 * bt * 4 + 4 * bt * 2 + 2 * 3 * 3 + 3 * bt * 2 + 3 * bt * 4 + 3 * bt + bt * 10 + 2 * bt;
    assertEquals(held, full.heldElements());
    assertEquals(2 * full.layerSavedElements() + held, full.stepElements());
    assertEquals(2 * bt * 10, full.backwardElements());
    // loss at 4 of the 6 positions: the head's part scales with 4, plus the gathered rows and their indices
    MemoryPlan four = full.withTargetPositions(4);
    assertEquals(4, four.targetPositions());
    // the first layer's output at 6 rows, the last one's at the 4 target rows
    long held4 = 2 * bt * 4 + 4 * 4 + 4 * bt * 2 + 2 * 3 * 3 + 2 * bt * 2 + 2 * 4 * 2 + 3 * 4 * 4 + 3 * 4 + 4 * 10 + 2 * 4;
    assertEquals(held4, four.heldElements());
    assertEquals(2 * 4 * 10, four.backwardElements());
    assertEquals(full.layerSavedElements(), four.layerSavedElements());
    // the last layer after its attention at 4 rows: the second norm's statistics and x * inv-rms,
    // o_proj's input, the residual, gate/up's input, SwiGLU's four and the product
    long attentionPart = 2 * bt + bt * 4 + bt * 4 + 3 * bt * 4 + scores;
    long lastAt4 = attentionPart + 2 * 4 + 4 * 4 + 4 * 4 + 4 * 4 + 4 * 4 + 4 * 4 * 6 + 4 * 6;
    assertEquals(full.layerSavedElements(), full.layerSavedElements(bt));
    assertEquals(lastAt4, full.layerSavedElements(4));
    assertEquals(full.layerSavedElements() + lastAt4 + held4, four.stepElements());
    // LoRA on every linear, per row after the attention: the second norm's statistics (2), o_proj's
    // input (4), the residual (4), gate/up's input (4), SwiGLU's four (24), the product (6) and the
    // A x of o, gate, up, down (4); q, k, v's A x stay at every row
    assertEquals(all.layerSavedElements() - (bt - 4) * (2 + 4 + 4 + 4 + 24 + 6 + 4), all.layerSavedElements(4));
    assertEquals(full.bytes("weights"), four.bytes("weights"));
    assertTrue(four.total() < full.total());
  }

  @Test
  void totalIsTheSumOfItsPartsAndStateFollowsTheTrainableCount() {
    ModelConfig c = FlopsTest.tiny();
    long n = MemoryPlan.baseParams(c);
    MemoryPlan full = MemoryPlan.full(c, 2, 3, 1000);
    assertEquals(full.items().stream().mapToLong(MemoryPlan.Item::bytes).sum(), full.total());
    assertEquals(4 * n, full.bytes("weights"));
    assertEquals(4 * n, full.bytes("gradients"));
    assertEquals(8 * n, full.bytes("adamw"));
    assertEquals(1000 + 2 * n, full.bytes("runtime"));
    assertEquals(4 * full.stepElements(), full.bytes("activations"));
    // the transient is the head's two logit gradients (AdamW's fused loop makes no temporaries)
    assertEquals(4 * full.backwardElements(), full.bytes("backward"));
    assertEquals(0, full.bytes("optimizer"));
    // the slack is the allocator's measured share of activations + backward, whichever allocator runs
    for (MemoryPlan.Allocator a : MemoryPlan.Allocator.values()) {
      MemoryPlan p = MemoryPlan.full(c, 2, 3, 1000, a);
      assertEquals(Math.round(a.slack * (p.bytes("activations") + p.bytes("backward"))), p.bytes("allocator"));
      assertEquals(full.total() - full.bytes("allocator"), p.total() - p.bytes("allocator"));
    }
    assertTrue(MemoryPlan.Allocator.TCMALLOC.slack < MemoryPlan.Allocator.GLIBC.slack);
    MemoryPlan lora = MemoryPlan.lora(c, 1, Set.of("q_proj", "v_proj"), 2, 3, 1000);
    assertEquals(12 * 32, lora.gradientAndOptimizerBytes());
    assertEquals(4 * (n + 32), lora.bytes("weights"));

    // A bfloat16 base adds 2 B per matmul weight and 1.5 N V floats of bfloat16 gradient casts at the
    // head; the rest, the saved activations included, is LoRA's as it was.
    MemoryPlan bf16 = lora.withBfloat16Base();
    assertEquals(2 * Flops.matmulParams(c), bf16.bytes("bfloat16 copies"));
    assertEquals(lora.backwardElements() + 3 * 6L * c.vocabSize / 2, bf16.backwardElements());
    assertEquals(lora.bytes("activations"), bf16.bytes("activations"));
    assertEquals(lora.bytes("weights"), bf16.bytes("weights"));
    assertEquals(lora.total() + bf16.bytes("bfloat16 copies") + 4 * (bf16.backwardElements() - lora.backwardElements())
        + (bf16.bytes("allocator") - lora.bytes("allocator")), bf16.total());
    assertEquals(bf16.bytes("bfloat16 copies"), bf16.withTargetPositions(3).bytes("bfloat16 copies"), "kept");
    assertThrows(IllegalArgumentException.class, full::withBfloat16Base);
  }

  @Test
  void sevenBillionIsLlama2Sized() throws Exception {
    MemoryPlan p = MemoryPlan.full(BenchModels.resolve("7b"), 1, 512, 0);
    assertEquals(6_738_415_616L, p.params());
    assertEquals(4 * 6_738_415_616L, p.bytes("weights"));
  }

  /**
   * What the step still holds after a real forward pass and loss lies within a loose bound of the
   * plan's count of it: the decoder layers close their own tensors (autograd keeps its saved ones,
   * out of DJL's sight; BENCHMARKS.md checks those against resident memory), so the arrays left open
   * in the step's manager are the plan's held tensors plus views, which share storage.
   */
  @Test
  void heldCountIsWithinALooseBoundOfARealForwardPass() {
    ModelConfig c = ModelConfig.fromJson(ModelConfig.llamaJson(64, 16, 40, 2, 4, 4), "tiny");
    int b = 2;
    int t = 8;
    MemoryPlan plan = MemoryPlan.full(c, b, t, 0);
    try (CausalLM model = ModelLoader.random(c, 1, 0.02)) {
      model.parameters().values().forEach(p -> p.setTrainable(true));
      try (NDManager m = model.manager().newSubManager()) {
        long[] ids = Workload.syntheticIds(b, t, c.vocabSize, 7);
        long[] pos = new long[b * t];
        for (int i = 0; i < pos.length; i++) {
          pos[i] = i % t;
        }
        long[] targets = new long[b * t];
        System.arraycopy(ids, 1, targets, 0, b * t - 1);
        targets[b * t - 1] = -1; // a target at every position but the last
        PackedInputs in = PackedInputs.of(m, t, ids, pos, new int[b][t], targets);
        try (GradientCollector gc = Backend.engine().newGradientCollector()) {
          NDArray logits = model.targetLogits(in);
          NDArray loss = in.loss(logits);
          logits.close(); // as the trainer does before the backward
          loss.getFloat();
          long created = m.getManagedArrays().stream().mapToLong(a -> a.getShape().size()).sum();
          long planned = plan.withTargetPositions(in.count()).heldElements();
          assertTrue(created >= 0.8 * planned && created <= 1.6 * planned,
              "the step holds " + created + " elements (views included), the plan counts " + planned);
        }
      }
    }
  }
}
