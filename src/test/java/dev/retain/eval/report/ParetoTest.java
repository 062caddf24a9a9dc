package dev.retain.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParetoTest {
  private static List<String> labels(List<Pareto.Point> ps) {
    return ps.stream().map(Pareto.Point::label).toList();
  }

  @Test
  void frontOfAHandMadeSet() {
    List<Pareto.Point> points = List.of(
        new Pareto.Point("A", 1, 5),
        new Pareto.Point("B", 2, 4),
        new Pareto.Point("C", 3, 3),
        new Pareto.Point("D", 2, 2),          // dominated by B and by C
        new Pareto.Point("E", 1, 4),          // same x as A, lower y: dominated by A
        new Pareto.Point("F", 3, 3),          // same place as C: neither dominates the other
        new Pareto.Point("G", 0, 5),          // same y as A, lower x: dominated by A
        new Pareto.Point("H", Double.NaN, 10),  // not measured: left out
        new Pareto.Point("I", 4, 1),
        new Pareto.Point("J", -1, 0.5));     // dominated by everything
    // By x ascending; along the front y falls.
    assertEquals(List.of("A", "B", "C", "F", "I"), labels(Pareto.front(points)));
  }

  @Test
  void smallCases() {
    assertTrue(Pareto.front(List.of()).isEmpty());
    assertEquals(List.of("only"), labels(Pareto.front(List.of(new Pareto.Point("only", 0, 0)))));
    // One point better on both axes takes the whole front.
    assertEquals(List.of("best"), labels(Pareto.front(List.of(
        new Pareto.Point("a", 1, 1), new Pareto.Point("best", 2, 2), new Pareto.Point("b", 0, 1.5)))));
    // A chain where each point trades x for y: all on the front, sorted by x.
    assertEquals(List.of("p", "q", "r"), labels(Pareto.front(List.of(
        new Pareto.Point("r", 0.4, 0.75), new Pareto.Point("p", 0.2, 1.01), new Pareto.Point("q", 0.36, 0.975)))));
    // Infinite coordinates count as not measured too.
    assertEquals(List.of("x"), labels(Pareto.front(List.of(
        new Pareto.Point("x", 1, 1), new Pareto.Point("inf", Double.POSITIVE_INFINITY, 2)))));
  }
}
