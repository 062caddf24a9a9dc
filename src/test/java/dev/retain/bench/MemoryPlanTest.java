package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.retain.model.CausalLM;
import dev.retain.model.Masks;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Ops;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The memory plan's formulas against hand counts, and against the tensors a real forward pass creates. */
class MemoryPlanTest {
  @Test
  void layerTensorsMatchAHandCount() {
    // B 2, T 3, hidden 4, FFN 6, 2 heads of 2 (no GQA), vocab 10
    ModelConfig c = FlopsTest.tiny();
    MemoryPlan p = MemoryPlan.full(c, 2, 3, 0);
    long bt = 6;
    long layer = 2 * (3 * bt * 4 + 3 * bt) // two RMSNorms
        + bt * 12 // q, k, v
        + 8 * bt * 4 // RoPE on q and k (4 BT d each)
        + 3 * (2 * 2 * 3 * 3) + 2 * bt * 4 // scores x3, PV and its copy
        + 2 * bt * 4 // o_proj, residual
        + 5 * bt * 6 // SwiGLU
        + 2 * bt * 4; // down, residual
    assertEquals(layer, p.layerElements());
    long step = 2 * layer + bt * 4 + 4 * bt * 2 + 2 * 3 * 3 + 3 * bt * 2 + bt + 3 * bt * 4 + 3 * bt + 2 * bt * 10 + 4 * bt;
    assertEquals(step, p.stepElements());
    // LoRA r=1 on q and v adds A x and its scaled copy (2 BT r) and two BT x out tensors per module
    MemoryPlan l = MemoryPlan.lora(c, 1, Set.of("q_proj", "v_proj"), 2, 3, 0);
    assertEquals(layer + 2 * (2 * bt + 2 * bt * 4), l.layerElements());
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
    // the transient is the backward copies (AdamW's fused loop makes no temporaries)
    assertEquals(4 * full.backwardElements(), full.bytes("backward"));
    assertEquals(0, full.bytes("optimizer"));
    assertEquals(Math.round(0.15 * (full.bytes("activations") + full.bytes("backward"))), full.bytes("allocator"));
    // and the structural parts alone stay within 15% of the whole: the slack is an allowance, not the estimate
    assertTrue(full.bytes("allocator") < 0.15 * full.total());
    MemoryPlan lora = MemoryPlan.lora(c, 1, Set.of("q_proj", "v_proj"), 2, 3, 1000);
    assertEquals(12 * 32, lora.gradientAndOptimizerBytes());
    assertEquals(4 * (n + 32), lora.bytes("weights"));
  }

  @Test
  void sevenBillionIsLlama2Sized() throws Exception {
    MemoryPlan p = MemoryPlan.full(BenchModels.resolve("7b"), 1, 512, 0);
    assertEquals(6_738_415_616L, p.params());
    assertEquals(4 * 6_738_415_616L, p.bytes("weights"));
  }

  /**
   * The plan's activation count for a tiny model lies within a loose bound of what a real forward
   * pass and loss create: every tensor of the step lands in the manager of its first operand (the
   * step's), so the managed arrays are the plan's tensors plus views (reshape, transpose, split),
   * which share storage and which the plan leaves out.
   */
  @Test
  void activationCountIsWithinALooseBoundOfARealForwardPass() {
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
        NDArray idArr = m.create(ids, new Shape(b, t));
        NDArray posArr = m.create(pos, new Shape(b, t));
        NDArray mask = Masks.packed(m, new int[b][t]);
        NDArray weights = m.ones(new Shape(b, t));
        try (GradientCollector gc = Backend.engine().newGradientCollector()) {
          NDArray logits = model.forward(idArr, posArr, mask, null, false).logits();
          NDArray loss = Ops.crossEntropy(logits, idArr).mul(weights).sum();
          loss.getFloat();
          long created = m.getManagedArrays().stream().mapToLong(a -> a.getShape().size()).sum();
          long planned = plan.stepElements();
          assertTrue(created >= 0.8 * planned && created <= 1.6 * planned,
              "forward created " + created + " elements (views included), the plan counts " + planned);
        }
      }
    }
  }
}
