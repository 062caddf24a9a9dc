package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.eval.ProbeRunner;
import dev.retain.eval.Probes;
import java.util.List;
import org.junit.jupiter.api.Test;

class LiveProbesTest {
  private static ProbeRunner.Result r(String role, Probes.Kind kind, int n, int correct) {
    return new ProbeRunner.Result(role + kind + n, kind, role, n, correct, kind == Probes.Kind.TEXT ? 4.2 : (double) correct / n,
        0, 1, 0);
  }

  @Test
  void theGeneralScorePoolsItemsAsTheReportDoes() {
    List<ProbeRunner.Result> results = List.of(
        r("general", Probes.Kind.EXACT, 2, 1),
        r("general", Probes.Kind.CHOICE, 10, 9),
        r("general", Probes.Kind.TEXT, 50, 0),
        r("domain", Probes.Kind.CHOICE, 4, 1));
    // 10 of 12 items, not the mean of 50% and 90%; the text suite is a cross-entropy and stays out.
    assertEquals(10.0 / 12, LiveProbes.pooled(results, "general"), 1e-12);
    assertEquals(0.25, LiveProbes.pooled(results, "domain"), 1e-12);
    assertTrue(Double.isNaN(LiveProbes.pooled(results, "other")));
  }
}
