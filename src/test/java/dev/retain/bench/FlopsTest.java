package dev.retain.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retain.model.ModelConfig;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The FLOP formulas against hand computations on a model small enough to count by hand. */
class FlopsTest {
  /** vocab 10, hidden 4, FFN 6, 2 layers, 2 heads of 2: every matmul weight countable by hand. */
  static ModelConfig tiny() {
    return ModelConfig.fromJson(ModelConfig.llamaJson(10, 4, 6, 2, 2, 2), "tiny");
  }

  @Test
  void matmulParametersAreTheProjectionsAndTheHead() {
    // per layer: q, k, v, o 4x4 = 16 each; gate, up 6x4 = 24 each; down 4x6 = 24 -> 136; two layers 272; head 10x4 = 40
    assertEquals(312, Flops.matmulParams(tiny()));
    // the embedding (10 x 4) and the norms are not matmul weights
    assertEquals(312 + 40 + 2 * 2 * 4 + 4, MemoryPlan.baseParams(tiny()));
  }

  @Test
  void fullFineTuningIsSixNPlusTwelveLTHDh() {
    // 6 * 312 + 12 * L(2) * T(3) * H(2) * Dh(2) = 1872 + 288
    assertEquals(2160, Flops.trainFull(tiny(), 3), 1e-9);
    assertEquals(2 * 312 + 4 * 2 * 3 * 2 * 2, Flops.forward(tiny(), 3), 1e-9);
  }

  @Test
  void loraCountsTheBackwardThroughTheFrozenBase() {
    ModelConfig c = tiny();
    Set<String> qv = Set.of("q_proj", "v_proj");
    // r = 1 on q and v: (4 + 4) each, two modules, two layers = 32
    assertEquals(32, Flops.loraParams(c, 1, qv));
    // forward 2N = 624; input gradients 2 (N - layer-0 q,k,v = 312 - 48) = 528; LoRA 6 * 32 = 192, less the
    // layer-0 A input gradients 2 * (4 + 4) = 16; attention: forward 96, layer 1 backward 4 * 24 = 96,
    // layer 0 backward 3 * 24 (dV, dP, dQ; no dK since k_proj has no adapter) = 72
    assertEquals(624 + 528 + 192 - 16 + 96 + 96 + 72, Flops.trainLora(c, 3, 1, qv), 1e-9);
  }

  @Test
  void generationAveragesPrefillAndCachedTokens() {
    ModelConfig c = tiny();
    // prompt 2: prefill 2 * (624 + 4*2*2*2*2) = 1376; then tokens at context 3 and 4: 624 + 96, 624 + 128
    assertEquals((1376 + 720 + 752) / 3.0, Flops.generateMean(c, 2, 3), 1e-9);
  }

  @Test
  void benchCasesUseTheMatchingFormula() {
    ModelConfig c = tiny();
    Workload.Settings s = Workload.Settings.defaults().withShape(1, 3).withLoraR(1);
    assertEquals(Flops.trainFull(c, 3), Workload.flopsPerToken(BenchCase.FULL_EWC, c, s), 1e-9);
    assertEquals(Flops.trainLora(c, 3, 1, Set.of("q_proj", "v_proj")) + Flops.forward(c, 3),
        Workload.flopsPerToken(BenchCase.LORA_KD, c, s), 1e-9);
    assertEquals(Flops.trainFull(c, 3) + Flops.forward(c, 3), Workload.flopsPerToken(BenchCase.FULL_KD, c, s), 1e-9);
  }
}
