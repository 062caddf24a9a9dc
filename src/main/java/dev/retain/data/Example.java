package dev.retain.data;

import java.util.Arrays;

/**
 * One tokenised document with its loss mask: {@code ids[i]} is the token at position i and
 * {@code target(i)} says whether that token is trained on, i.e. whether the loss includes predicting
 * {@code ids[i]} from the prefix ending at position i-1. Token 0 is never a target (nothing predicts
 * it). Packed into a row, a document of n tokens takes n-1 input positions (its last token is only
 * ever predicted, never fed). Immutable.
 */
public final class Example {
  private final int[] ids;
  private final boolean[] target;
  private final int targets;

  /** Copies the arrays; {@code target[0]} is ignored (always false). At least two tokens. */
  public Example(int[] ids, boolean[] target) {
    this(ids.clone(), target.clone(), true);
  }

  /** Takes ownership of the arrays (no copy). */
  Example(int[] ids, boolean[] target, boolean owned) {
    if (ids.length != target.length) {
      throw new IllegalArgumentException("ids and target mask differ in length: " + ids.length + " vs " + target.length);
    }
    if (ids.length < 2) {
      throw new IllegalArgumentException("an example needs at least two tokens (one input, one prediction), got " + ids.length);
    }
    for (int id : ids) {
      if (id < 0) {
        throw new IllegalArgumentException("negative token id " + id);
      }
    }
    target[0] = false;
    int t = 0;
    for (boolean b : target) {
      t += b ? 1 : 0;
    }
    this.ids = ids;
    this.target = target;
    this.targets = t;
  }

  /** Number of tokens. */
  public int length() {
    return ids.length;
  }

  /** Input positions the example takes in a packed row: {@code length() - 1}. */
  public int positions() {
    return ids.length - 1;
  }

  public int id(int i) {
    return ids[i];
  }

  public boolean isTarget(int i) {
    return target[i];
  }

  /** Number of target tokens. */
  public int targetCount() {
    return targets;
  }

  /** A copy of the token ids. */
  public int[] ids() {
    return ids.clone();
  }

  /** A copy of the target mask. */
  public boolean[] targets() {
    return target.clone();
  }

  int[] idsUnsafe() {
    return ids;
  }

  boolean[] targetUnsafe() {
    return target;
  }

  /** This example cut to its first {@code maxTokens} tokens (this when it is short enough). */
  public Example truncate(int maxTokens) {
    if (ids.length <= maxTokens) {
      return this;
    }
    return new Example(Arrays.copyOf(ids, maxTokens), Arrays.copyOf(target, maxTokens), true);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Example e && Arrays.equals(ids, e.ids) && Arrays.equals(target, e.target);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(ids) + Arrays.hashCode(target);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Example[");
    for (int i = 0; i < ids.length; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(ids[i]);
      if (target[i]) {
        sb.append('*');
      }
    }
    return sb.append(']').toString();
  }
}
