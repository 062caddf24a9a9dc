package dev.retain.eval.report;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The Pareto front of labelled points when both coordinates are to be maximised: the points that no
 * other point dominates. q dominates p when q.x >= p.x and q.y >= p.y and q is strictly better in
 * at least one of them. Points with a NaN or infinite coordinate are left out; points at the same
 * place do not dominate each other, so duplicates on the front are all kept.
 */
public final class Pareto {
  private Pareto() {}

  public record Point(String label, double x, double y) {
    boolean finite() {
      return Double.isFinite(x) && Double.isFinite(y);
    }

    boolean dominates(Point p) {
      return x >= p.x && y >= p.y && (x > p.x || y > p.y);
    }
  }

  /** The non-dominated points, by x ascending (so y descending along the front). */
  public static List<Point> front(Collection<Point> points) {
    List<Point> finite = points.stream().filter(Point::finite).toList();
    List<Point> front = new ArrayList<>();
    for (Point p : finite) {
      boolean dominated = false;
      for (Point q : finite) {
        if (q.dominates(p)) {
          dominated = true;
          break;
        }
      }
      if (!dominated) {
        front.add(p);
      }
    }
    front.sort(Comparator.comparingDouble(Point::x).thenComparing(Comparator.comparingDouble(Point::y).reversed()));
    return front;
  }
}
