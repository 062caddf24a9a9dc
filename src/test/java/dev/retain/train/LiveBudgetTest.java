package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.eval.RetentionBudget;
import dev.retain.model.CausalLM;
import dev.retain.testutil.Tiny;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's reaction to the retention budget, driven by a scripted series of live general
 * scores: it logs every measurement, raises the replay ratio of the following epochs, and rolls the
 * weights back to the best checkpoint that met the budget.
 */
class LiveBudgetTest {
  @TempDir Path tmp;

  /** A live evaluation whose general scores follow a script (the measurement itself is tested elsewhere). */
  static final class Scripted implements LiveEval {
    final double[] series;
    final RetentionBudget budget = RetentionBudget.of(0.97);
    int i;

    Scripted(double... series) {
      this.series = series;
    }

    @Override
    public int every() {
      return 2;
    }

    @Override
    public Scores measure() {
      double g = series[Math.min(i++, series.length - 1)];
      return new Scores(g, 0.1 * i, Map.of("general-math", g));
    }

    @Override
    public double baseGeneral() {
      return 0.8;
    }

    @Override
    public RetentionBudget budget() {
      return budget;
    }
  }

  @Test
  void escalatesReplayAndRollsBackToTheBestCheckpoint() throws Exception {
    RunConfig.Training cfg = new RunConfig.Training();
    cfg.lr = 3e-3;
    cfg.logEvery = 1;
    // Steps 2, 4: within budget (best at 4); 6, 8, 10: below -> escalate x3; 12: still below -> roll back to 4.
    Scripted live = new Scripted(0.80, 0.81, 0.70, 0.70, 0.70, 0.70, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80);
    try (CausalLM model = Tiny.model(9)) {
      Trainer t = Tiny.trainer(tmp, model, cfg, 6, List.of(), null, live);
      long plannedBefore = t.totalSteps();
      t.run();
      List<JsonNode> budget = new ArrayList<>();
      List<JsonNode> epochs = new ArrayList<>();
      int probes = 0;
      for (String line : Files.readAllLines(tmp.resolve("out/metrics.jsonl"))) {
        JsonNode n = Json.MAPPER.readTree(line);
        switch (n.path("kind").asText()) {
          case "budget" -> budget.add(n);
          case "epoch" -> epochs.add(n);
          case "probe" -> probes++;
          default -> { }
        }
      }
      assertTrue(probes >= 6, "probes logged: " + probes);
      assertEquals("continue", budget.get(0).path("action").asText());
      assertEquals("escalate", budget.get(2).path("action").asText());
      assertEquals("rollback", budget.get(5).path("action").asText());
      assertTrue(budget.get(5).path("reason").asText().contains("rolling back to step 4"), budget.get(5).toString());
      // The replay ratio of epochs that started after the first escalation is higher than scheduled (0.25).
      JsonNode last = epochs.get(epochs.size() - 1);
      assertEquals(0.25, epochs.get(0).path("scheduled_general_share").asDouble(), 1e-9);
      assertTrue(last.path("scheduled_general_share").asDouble() > 0.3, last.toString());
      assertTrue(t.totalSteps() > plannedBefore, "more replay means more steps: " + plannedBefore + " -> " + t.totalSteps());
      assertTrue(Files.isDirectory(tmp.resolve("out/checkpoints-best/step-00000004")));
    }
  }
}
