package dev.retain.data;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The packed batches of one epoch (or of a validation split), built on demand: the rows are kept as
 * lists of documents and a {@link Batch}'s arrays are filled only when asked for, so an epoch costs
 * little memory. {@link #from(int)} resumes at batch k.
 */
public final class Batches implements Iterable<Batch> {
  private final int epoch;
  private final int seqLen;
  private final int rowsPerBatch;
  private final int padId;
  private final List<String> sourceNames;
  private final List<Packer.Row> rows;

  Batches(int epoch, int seqLen, int rowsPerBatch, int padId, List<String> sourceNames, List<Packer.Row> rows) {
    this.epoch = epoch;
    this.seqLen = seqLen;
    this.rowsPerBatch = rowsPerBatch;
    this.padId = padId;
    this.sourceNames = List.copyOf(sourceNames);
    this.rows = List.copyOf(rows);
  }

  /** The epoch (-1 for validation batches). */
  public int epoch() {
    return epoch;
  }

  /** Number of batches. */
  public int size() {
    return (rows.size() + rowsPerBatch - 1) / rowsPerBatch;
  }

  /** Number of packed rows. */
  public int rowCount() {
    return rows.size();
  }

  public int seqLen() {
    return seqLen;
  }

  /** Share of input positions that hold document tokens (1 - padding share). */
  public double fill() {
    if (rows.isEmpty()) {
      return 0;
    }
    long used = 0;
    for (Packer.Row r : rows) {
      used += r.used;
    }
    return (double) used / ((long) rows.size() * seqLen);
  }

  /** Total target tokens of the epoch. */
  public long targetTokens() {
    long n = 0;
    for (Packer.Row r : rows) {
      for (Example e : r.docs) {
        n += e.targetCount();
      }
    }
    return n;
  }

  /** Batch {@code k} (0-based). */
  public Batch get(int k) {
    if (k < 0 || k >= size()) {
      throw new IndexOutOfBoundsException("batch " + k + " of an epoch with " + size() + " batches");
    }
    int first = k * rowsPerBatch;
    int n = Math.min(rowsPerBatch, rows.size() - first);
    long[] inputIds = new long[n * seqLen];
    long[] targets = new long[n * seqLen];
    long[] positions = new long[n * seqLen];
    int[][] segments = new int[n][];
    String[] rowSources = new String[n];
    int targetTokens = 0;
    int documents = 0;
    for (int r = 0; r < n; r++) {
      Packer.Row row = rows.get(first + r);
      rowSources[r] = sourceNames.get(row.source);
      int[] seg = new int[seqLen];
      int base = r * seqLen;
      int t = 0;
      for (int d = 0; d < row.docs.size(); d++) {
        Example e = row.docs.get(d);
        int[] ids = e.idsUnsafe();
        boolean[] tgt = e.targetUnsafe();
        for (int i = 0; i + 1 < ids.length; i++, t++) {
          inputIds[base + t] = ids[i];
          if (tgt[i + 1]) {
            targets[base + t] = ids[i + 1];
            targetTokens++;
          } else {
            targets[base + t] = Packer.IGNORE;
          }
          positions[base + t] = i;
          seg[t] = d;
        }
        documents++;
      }
      for (; t < seqLen; t++) {
        inputIds[base + t] = padId;
        targets[base + t] = Packer.IGNORE;
        positions[base + t] = 0;
        seg[t] = Packer.PAD_SEGMENT;
      }
      segments[r] = seg;
    }
    return new Batch(epoch, k, seqLen, inputIds, targets, positions, segments, rowSources, targetTokens, documents);
  }

  /** Batches from {@code k} on (k == size() gives none): resume at batch k of this epoch. */
  public Iterable<Batch> from(int k) {
    if (k < 0 || k > size()) {
      throw new IndexOutOfBoundsException("cannot resume at batch " + k + " of an epoch with " + size() + " batches");
    }
    return () -> new Iterator<>() {
      private int next = k;

      @Override
      public boolean hasNext() {
        return next < size();
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return get(next++);
      }
    };
  }

  @Override
  public Iterator<Batch> iterator() {
    return from(0).iterator();
  }
}
