package dev.retain.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a run stands, saved in every checkpoint as trainer_state.json: enough to continue so that
 * the resumed run's losses equal the uninterrupted run's. The data order of an epoch is rebuilt from
 * (seed, epoch), so the position is just (epoch, batch); dropout and sampling are reseeded from
 * (seed, step).
 */
public final class TrainerState {
  /** Optimizer steps done. */
  public long step;
  /** Epoch in progress (0-based) and the next batch index within it. */
  public int epoch;
  public int batchInEpoch;
  /** Stage in progress (0-based) and the optimizer steps done within it. */
  public int stage;
  public long stageStep;
  public long seed;
  public long tokensSeen;
  /** Batches skipped because of a non-finite loss (when configured to skip). */
  public long skippedBatches;
  /** Every parameter trained so far in any stage: what a checkpoint must hold to restore the run. */
  public java.util.Set<String> trainedNames = new java.util.LinkedHashSet<>();
  /** Per-parameter Adam step counts (t), by name. */
  public Map<String, Long> adamSteps = new LinkedHashMap<>();
  /** Free-form state of retention terms (e.g. SI's running sums live in tensors; counters here). */
  public Map<String, Object> extra = new LinkedHashMap<>();
  public String retainVersion = "0.1";
}
