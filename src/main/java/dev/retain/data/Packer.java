package dev.retain.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs examples into rows of exactly seqLen input positions and groups rows into batches.
 *
 * <ul>
 *   <li>A document of n tokens takes n-1 positions: inputs {@code ids[0..n-2]}, and at position t
 *       the target is {@code ids[t+1]} when that token is a target, else {@link #IGNORE}. So every
 *       position of a document predicts within the document; its last token is never fed.
 *   <li>Documents are never split: in plan order, an example that does not fit what is left of its
 *       row closes that row (the rest is padding) and starts a new one. Examples must have at most
 *       seqLen + 1 tokens (the {@link Encoder}'s cap).
 *   <li>A row holds examples of one source only (each source has its own open row), so the trainer
 *       can treat rows by source (e.g. distil only on general rows); a batch mixes rows of several
 *       sources. Rows are ordered by the plan position of their first example.
 *   <li>Within a row, documents get segment ids 0, 1, 2...; padding gets {@link #PAD_SEGMENT}, its
 *       own id, so attention restricted to equal segment ids never crosses documents. Positions
 *       (for RoPE) restart at 0 at each document; padding has position 0, input id {@code padId}
 *       and target {@link #IGNORE}.
 *   <li>Batches hold {@code rowsPerBatch} rows; the last batch of an epoch may hold fewer.
 * </ul>
 *
 * Everything is deterministic given the plan.
 */
public final class Packer {
  /** Target value of a position that is not trained on (as PyTorch's ignore_index). */
  public static final long IGNORE = -100;
  /** Segment id of padding positions (documents have ids 0, 1, 2...). */
  public static final int PAD_SEGMENT = -1;

  private final int seqLen;
  private final int rowsPerBatch;
  private final int padId;

  /**
   * @param seqLen input positions per row (the encoder's seqLen)
   * @param rowsPerBatch rows per batch (micro-batch size)
   * @param padId input id at padding positions (any valid id; retain passes eos)
   */
  public Packer(int seqLen, int rowsPerBatch, int padId) {
    if (seqLen < 1) {
      throw new IllegalArgumentException("seqLen must be at least 1, got " + seqLen);
    }
    if (rowsPerBatch < 1) {
      throw new IllegalArgumentException("rows per batch must be at least 1, got " + rowsPerBatch);
    }
    if (padId < 0) {
      throw new IllegalArgumentException("pad id must be a valid token id, got " + padId);
    }
    this.seqLen = seqLen;
    this.rowsPerBatch = rowsPerBatch;
    this.padId = padId;
  }

  public int seqLen() {
    return seqLen;
  }

  public int rowsPerBatch() {
    return rowsPerBatch;
  }

  public int padId() {
    return padId;
  }

  /** The batches of one epoch. */
  public Batches pack(EpochPlan plan) {
    int n = plan.size();
    Example[] docs = new Example[n];
    int[] src = new int[n];
    for (int i = 0; i < n; i++) {
      docs[i] = plan.example(i);
      src[i] = plan.sourceIndex(i);
    }
    return pack(plan.epoch(), plan.sourceNames(), src, docs);
  }

  /** All of one source's examples in their order, e.g. its validation split (epoch -1). */
  public Batches pack(String source, List<Example> examples) {
    Example[] docs = examples.toArray(new Example[0]);
    return pack(-1, List.of(source), new int[docs.length], docs);
  }

  /** Packs {@code docs[i]} of source {@code names[src[i]]}, in this order. */
  Batches pack(int epoch, List<String> names, int[] src, Example[] docs) {
    List<Row> rows = new ArrayList<>();
    Row[] open = new Row[names.size()];
    for (int i = 0; i < docs.length; i++) {
      Example e = docs[i];
      int need = e.positions();
      if (need > seqLen) {
        throw new IllegalArgumentException("an example of " + e.length() + " tokens needs " + need + " positions but rows hold "
            + seqLen + "; tokenise with the same seqLen as the packer (the encoder cuts examples to seqLen + 1 tokens)");
      }
      Row r = open[src[i]];
      if (r == null || r.used + need > seqLen) {
        r = new Row(src[i]);
        open[src[i]] = r;
        rows.add(r);
      }
      r.docs.add(e);
      r.used += need;
    }
    return new Batches(epoch, seqLen, rowsPerBatch, padId, names, rows);
  }

  /** The documents of one row. */
  static final class Row {
    final int source;
    final List<Example> docs = new ArrayList<>();
    int used;

    Row(int source) {
      this.source = source;
    }
  }
}
