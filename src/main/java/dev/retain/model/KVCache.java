package dev.retain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * Keys and values of every layer for the tokens seen so far, so that generation computes each new
 * token from one position instead of the whole sequence. Holds [B, KVH, S, D] per layer (before
 * the GQA repeat). The arrays outlive each step's scope and are closed here.
 */
public final class KVCache implements AutoCloseable {
  private final NDArray[] keys;
  private final NDArray[] values;
  private int length;

  public KVCache(int layers) {
    keys = new NDArray[layers];
    values = new NDArray[layers];
  }

  /** Number of positions cached. */
  public int length() {
    return length;
  }

  /** Appends this step's k, v for a layer and returns the full [k, v]. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    NDArray fk = keys[layer] == null ? k : keys[layer].concat(k, 2);
    NDArray fv = values[layer] == null ? v : values[layer].concat(v, 2);
    NDScope.unregister(fk, fv);
    if (keys[layer] != null && keys[layer] != fk) {
      keys[layer].close();
      values[layer].close();
    }
    keys[layer] = fk;
    values[layer] = fv;
    return new NDArray[] {fk, fv};
  }

  /** Called once per forward after every layer appended. */
  void advance(int tokens) {
    length += tokens;
  }

  @Override
  public void close() {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != null) {
        keys[i].close();
        values[i].close();
        keys[i] = null;
        values[i] = null;
      }
    }
    length = 0;
  }
}
