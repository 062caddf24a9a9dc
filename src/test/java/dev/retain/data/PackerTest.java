package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackerTest {
  private static final long X = Packer.IGNORE;
  private static final int P = Packer.PAD_SEGMENT;

  private static Example ex(int[] ids, boolean[] target) {
    return new Example(ids, target);
  }

  // a text "10 11": bos, 10, 11, eos; all but bos trained on; takes 3 positions
  static final Example A = ex(new int[] {1, 10, 11, 2}, new boolean[] {false, true, true, true});
  // prompt "20 21", completion "22": takes 4 positions
  static final Example B = ex(new int[] {1, 20, 21, 22, 2}, new boolean[] {false, false, false, true, true});
  // text "30": takes 2 positions
  static final Example C = ex(new int[] {1, 30, 2}, new boolean[] {false, true, true});

  @Test
  void handPackedRows() {
    Batches b = new Packer(8, 2, 2).pack("domain", List.of(A, B, C));
    assertEquals(2, b.rowCount());
    assertEquals(1, b.size());
    Batch batch = b.get(0);
    assertEquals(2, batch.rows());
    // row 0: A (3) + B (4) = 7 positions, C (2) does not fit the last one -> row 1
    assertArrayEquals(new long[] {
        1, 10, 11, 1, 20, 21, 22, 2,
        1, 30, 2, 2, 2, 2, 2, 2}, batch.inputIds());
    assertArrayEquals(new long[] {
        10, 11, 2, X, X, 22, 2, X,
        30, 2, X, X, X, X, X, X}, batch.targets());
    assertArrayEquals(new long[] {
        0, 1, 2, 0, 1, 2, 3, 0,
        0, 1, 0, 0, 0, 0, 0, 0}, batch.positions());
    assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1, 1, P}, batch.segments()[0]);
    assertArrayEquals(new int[] {0, 0, P, P, P, P, P, P}, batch.segments()[1]);
    assertEquals(3 + 2 + 2, batch.targetTokens());
    assertEquals(3, batch.documents());
    assertArrayEquals(new String[] {"domain", "domain"}, batch.rowSources());
    assertEquals(-1, batch.epoch());
    assertEquals(7, b.targetTokens());
    assertEquals(9 / 16.0, b.fill(), 1e-12);
  }

  @Test
  void rowsHoldOneSourceAndBatchesMixThem() {
    Example d1 = A; // 3 positions
    Example g1 = C; // 2
    Example d2 = B; // 4
    Example g2 = ex(new int[] {1, 40, 41, 42, 43, 2}, new boolean[] {false, true, true, true, true, true}); // 5
    Example d3 = ex(new int[] {1, 50, 2}, new boolean[] {false, true, true}); // 2
    Batches b = new Packer(8, 2, 0).pack(3, List.of("domain", "general"), new int[] {0, 1, 0, 1, 0},
        new Example[] {d1, g1, d2, g2, d3});
    // domain row: d1 + d2 = 7; general row: g1 + g2 = 7; d3 does not fit the domain row: new row
    assertEquals(3, b.rowCount());
    assertEquals(2, b.size());
    Batch b0 = b.get(0);
    assertArrayEquals(new String[] {"domain", "general"}, b0.rowSources());
    assertArrayEquals(new long[] {
        1, 10, 11, 1, 20, 21, 22, 0,
        1, 30, 1, 40, 41, 42, 43, 0}, b0.inputIds());
    assertArrayEquals(new long[] {
        10, 11, 2, X, X, 22, 2, X,
        30, 2, 40, 41, 42, 43, 2, X}, b0.targets());
    assertArrayEquals(new long[] {
        0, 1, 2, 0, 1, 2, 3, 0,
        0, 1, 0, 1, 2, 3, 4, 0}, b0.positions());
    assertArrayEquals(new int[] {0, 0, 1, 1, 1, 1, 1, P}, b0.segments()[1]);
    assertArrayEquals(new int[] {1}, b0.rowsFrom("general"));
    assertEquals(7, b0.targetTokens("general"));
    assertEquals(5, b0.targetTokens("domain"));
    assertEquals(12, b0.targetTokens());
    assertEquals(3, b0.epoch());

    Batch b1 = b.get(1);
    assertEquals(1, b1.rows(), "the last batch may be short");
    assertEquals(1, b1.index());
    assertArrayEquals(new long[] {1, 50, 0, 0, 0, 0, 0, 0}, b1.inputIds());
    assertArrayEquals(new long[] {50, 2, X, X, X, X, X, X}, b1.targets());

    // resume at batch 1
    List<Batch> rest = new ArrayList<>();
    b.from(1).forEach(rest::add);
    assertEquals(1, rest.size());
    assertArrayEquals(b1.inputIds(), rest.get(0).inputIds());
    assertEquals(0, countOf(b.from(2)));
    assertEquals(2, countOf(b));
  }

  private static int countOf(Iterable<Batch> it) {
    int n = 0;
    for (Batch ignored : it) {
      n++;
    }
    return n;
  }

  @Test
  void exampleOfExactlySeqLenPlusOneFillsARow() {
    Example full = ex(new int[] {1, 5, 6, 7, 2}, new boolean[] {false, true, true, true, true});
    Batch b = new Packer(4, 1, 2).pack("x", List.of(full, full)).get(1);
    assertArrayEquals(new long[] {1, 5, 6, 7}, b.inputIds());
    assertArrayEquals(new long[] {5, 6, 7, 2}, b.targets());
    Example tooLong = ex(new int[] {1, 5, 6, 7, 8, 2}, new boolean[6]);
    assertThrows(IllegalArgumentException.class, () -> new Packer(4, 1, 2).pack("x", List.of(tooLong)));
  }

  @Test
  void epochPackingIsDeterministic() {
    Mixture m = MixtureTest.mixture(ReplaySchedule.constant(0.25), 2, 11);
    Packer packer = new Packer(16, 4, 2);
    Batches x = packer.pack(m.plan(1));
    Batches y = packer.pack(MixtureTest.mixture(ReplaySchedule.constant(0.25), 2, 11).plan(1));
    assertEquals(x.size(), y.size());
    long targets = 0;
    for (int k = 0; k < x.size(); k++) {
      assertArrayEquals(x.get(k).inputIds(), y.get(k).inputIds());
      assertArrayEquals(x.get(k).targets(), y.get(k).targets());
      assertArrayEquals(x.get(k).rowSources(), y.get(k).rowSources());
      targets += x.get(k).targetTokens();
    }
    // every example has 2 targets, each counted once
    assertEquals(2L * (2000 + Mixture.generalCount(2000, 0.25)), targets);
    assertEquals(targets, x.targetTokens());
  }
}
