package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.tensor.Host;
import dev.retain.tensor.Ops;
import java.util.Arrays;

/**
 * Rows of tokens as the model's input tensors, with the positions whose next token is a target:
 * what training, validation, importance estimation, probes and the benchmark hand to
 * {@link CausalLM#targetLogits}. The loss is taken only at the N target positions, so the head,
 * its log-softmax and every loss built on its logits (cross-entropy, distillation's KL) run only
 * there: on prompt/completion data most positions are prompt or padding and carry no loss (about
 * two thirds in the bundled cardio and general data).
 *
 * <p>Targets come as one value per position, row-major: the token to predict there, or a negative
 * value where none is (the data package's {@code Packer.IGNORE}). Target positions are kept in
 * row-major order, so the n-th row of the logits is the n-th target position.
 */
public final class PackedInputs {
  public final int rows;
  public final int seqLen;
  /** int64 [rows, seqLen]. */
  public final NDArray ids;
  /** int64 [rows, seqLen] rotary positions, or null for 0..seqLen-1 in every row. */
  public final NDArray positions;
  /** Additive [rows, 1, seqLen, seqLen] same-document causal mask, or null for plain causal attention. */
  public final NDArray mask;
  /** int64 [N]: flat indices (row * seqLen + position) of the target positions; null when every position is one. */
  public final NDArray at;
  /** int64 [N]: the token to predict at each target position. */
  public final NDArray targets;

  private final long[] hostIds;
  private final long[] hostPositions;
  private final int[][] segments;
  private final long[] hostTargets;
  private final int[] index; // flat indices of the target positions

  private PackedInputs(NDManager m, int seqLen, long[] ids, long[] positions, int[][] segments, long[] targets) {
    if (seqLen <= 0 || ids.length == 0 || ids.length % seqLen != 0) {
      throw new IllegalArgumentException(ids.length + " ids do not make rows of " + seqLen);
    }
    if (targets.length != ids.length || (positions != null && positions.length != ids.length)) {
      throw new IllegalArgumentException("ids, positions and targets differ in length: " + ids.length + ", "
          + (positions == null ? "none" : positions.length) + ", " + targets.length);
    }
    this.rows = ids.length / seqLen;
    this.seqLen = seqLen;
    if (segments != null && (segments.length != rows || Arrays.stream(segments).anyMatch(r -> r.length != seqLen))) {
      throw new IllegalArgumentException("segments are not [" + rows + ", " + seqLen + "]");
    }
    this.hostIds = ids;
    this.hostPositions = positions;
    this.segments = segments;
    this.hostTargets = targets;
    int n = 0;
    for (long t : targets) {
      n += t >= 0 ? 1 : 0;
    }
    index = new int[n];
    long[] at = new long[n];
    long[] gathered = new long[n];
    for (int i = 0, k = 0; i < targets.length; i++) {
      if (targets[i] >= 0) {
        index[k] = i;
        at[k] = i;
        gathered[k++] = targets[i];
      }
    }
    Shape shape = new Shape(rows, seqLen);
    this.ids = Host.of(m, ids, shape);
    this.positions = positions == null ? null : Host.of(m, positions, shape);
    this.mask = segments == null ? null : Masks.packed(m, segments);
    this.at = n == ids.length ? null : Host.of(m, at);
    this.targets = Host.of(m, gathered);
  }

  /**
   * Packed rows (at least one): {@code ids}, {@code positions} (restarting per document) and {@code targets} are
   * row-major [rows, seqLen]; {@code segments[r][i]} is position i's document in row r (only equal
   * documents attend to each other). Positions and segments may be null: 0..seqLen-1 and plain
   * causal attention.
   */
  public static PackedInputs of(NDManager m, int seqLen, long[] ids, long[] positions, int[][] segments, long[] targets) {
    return new PackedInputs(m, seqLen, ids, positions, segments, targets);
  }

  /** Number of target positions (N): the rows of {@link CausalLM#targetLogits}. */
  public int count() {
    return index.length;
  }

  /** The row of the n-th target position. */
  public int rowOf(int n) {
    return index[n] / seqLen;
  }

  /** Target positions in row {@code r}. */
  public int countInRow(int r) {
    int lo = lowerBound(r * seqLen);
    return lowerBound((r + 1) * seqLen) - lo;
  }

  private int lowerBound(int flat) {
    int i = Arrays.binarySearch(index, flat);
    if (i >= 0) {
      return i;
    }
    return -i - 1;
  }

  /** The given rows (in the order given) as inputs of their own, in the same manager as these. */
  public PackedInputs select(int[] chosen) {
    int k = chosen.length;
    long[] id = new long[k * seqLen];
    long[] pos = hostPositions == null ? null : new long[k * seqLen];
    long[] tgt = new long[k * seqLen];
    int[][] seg = segments == null ? null : new int[k][];
    for (int j = 0; j < k; j++) {
      int from = chosen[j] * seqLen;
      System.arraycopy(hostIds, from, id, j * seqLen, seqLen);
      System.arraycopy(hostTargets, from, tgt, j * seqLen, seqLen);
      if (pos != null) {
        System.arraycopy(hostPositions, from, pos, j * seqLen, seqLen);
      }
      if (seg != null) {
        seg[j] = segments[chosen[j]];
      }
    }
    return new PackedInputs(ids.getManager(), seqLen, id, pos, seg, tgt);
  }

  /** -log softmax(logits)[target] at each target position: [N], from logits [N, V] of {@link CausalLM#targetLogits}. */
  public NDArray tokenLoss(NDArray logits) {
    return Ops.crossEntropy(logits, targets);
  }

  /** The summed cross-entropy over the target positions (0 when there are none). */
  public NDArray loss(NDArray logits) {
    return tokenLoss(logits).sum();
  }
}
