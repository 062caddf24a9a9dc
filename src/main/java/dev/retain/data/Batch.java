package dev.retain.data;

import java.util.ArrayList;
import java.util.List;

/**
 * One batch of packed rows, ready for the model: row-major arrays of {@code rows() * seqLen} values
 * (shape [rows, seqLen]). {@code targets} holds the id to predict at each position or
 * {@link Packer#IGNORE}; {@code positions} restart at 0 for each document (RoPE); {@code segments}
 * give each position's document within its row ({@link Packer#PAD_SEGMENT} for padding), for a
 * same-document causal mask ({@code dev.retain.model.Masks.packed}). {@code rowSources[r]} names the
 * source of row r (a row holds one source's examples). Arrays are shared, not copied: do not modify.
 *
 * @param epoch the epoch (-1 for validation batches)
 * @param index the batch's index in its epoch
 * @param targetTokens positions whose target is not IGNORE (the loss denominator)
 * @param documents documents in the batch
 */
public record Batch(
    int epoch,
    int index,
    int seqLen,
    long[] inputIds,
    long[] targets,
    long[] positions,
    int[][] segments,
    String[] rowSources,
    int targetTokens,
    int documents) {

  /** Number of rows. */
  public int rows() {
    return segments.length;
  }

  /** Indices of the rows from {@code source}. */
  public int[] rowsFrom(String source) {
    List<Integer> out = new ArrayList<>();
    for (int r = 0; r < rowSources.length; r++) {
      if (rowSources[r].equals(source)) {
        out.add(r);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Target tokens in the rows from {@code source}. */
  public int targetTokens(String source) {
    int n = 0;
    for (int r = 0; r < rowSources.length; r++) {
      if (rowSources[r].equals(source)) {
        for (int t = r * seqLen; t < (r + 1) * seqLen; t++) {
          n += targets[t] != Packer.IGNORE ? 1 : 0;
        }
      }
    }
    return n;
  }
}
