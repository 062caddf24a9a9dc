package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.model.CausalLM;
import dev.retain.testutil.Tiny;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A NaN or infinite loss stops the run naming step, term and last checkpoint, or is skipped and counted. */
class NonFiniteTest {
  @TempDir Path tmp;

  @AfterEach
  void clear() {
    System.clearProperty("retain.fault");
  }

  static RunConfig.Training cfg() {
    RunConfig.Training c = new RunConfig.Training();
    c.checkpointEvery = 2;
    c.logEvery = 1;
    return c;
  }

  @Test
  void aNanLossStopsTheRunWithStepTermAndCheckpoint() throws Exception {
    System.setProperty("retain.fault", "loss.nan@3:nan");
    try (CausalLM model = Tiny.model(1)) {
      Trainer t = Tiny.trainer(tmp, model, cfg(), 2, List.of());
      String m = assertThrows(Trainer.NonFiniteException.class, t::run).getMessage();
      assertTrue(m.contains("the CE loss is NaN at step 3") && m.contains("step-00000002") && m.contains("non_finite: skip"), m);
    }
  }

  @Test
  void skipModeDropsTheBatchAndCountsIt() throws Exception {
    System.setProperty("retain.fault", "loss.nan@3:nan");
    RunConfig.Training c = cfg();
    c.nonFinite = RunConfig.NonFinite.SKIP;
    try (CausalLM model = Tiny.model(1)) {
      Trainer t = Tiny.trainer(tmp, model, c, 2, List.of());
      Trainer.Result r = t.run();
      assertEquals(1, r.state().skippedBatches);
      assertEquals(t.totalSteps(), r.state().step);
      for (float[] w : TrainerTest.weights(model).values()) {
        for (float v : w) {
          assertTrue(Float.isFinite(v));
        }
      }
    }
  }

  @Test
  void aRealDivergenceIsCaught() throws Exception {
    RunConfig.Training c = cfg();
    c.lr = 1e30; // Adam steps of ~1e30 overflow float32 in the next forward pass
    c.gradClip = 0;
    c.weightDecay = 0;
    try (CausalLM model = Tiny.model(1)) {
      Trainer t = Tiny.trainer(tmp, model, c, 3, List.of());
      String m = assertThrows(Trainer.NonFiniteException.class, t::run).getMessage();
      assertTrue(m.contains("at step") && (m.contains("CE") || m.contains("gradient")), m);
    }
  }
}
