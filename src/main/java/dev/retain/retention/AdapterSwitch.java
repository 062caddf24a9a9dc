package dev.retain.retention;

import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.LinearAdapter;
import dev.retain.model.ResidualAdapter;
import java.util.ArrayList;
import java.util.List;

/**
 * Switches a model's adapters off for a pass and back to exactly how they were (an adapter that was
 * already off stays off), for teacher passes and Fisher estimation on the base model.
 */
final class AdapterSwitch {
  private final List<LinearAdapter> linear = new ArrayList<>();
  private final List<Boolean> linearOn = new ArrayList<>();
  private final List<ResidualAdapter> residual = new ArrayList<>();
  private final List<Boolean> residualOn = new ArrayList<>();

  private AdapterSwitch() {}

  /** Records the current switches of every adapter of {@code model}. */
  static AdapterSwitch of(CausalLM model) {
    AdapterSwitch s = new AdapterSwitch();
    for (Linear lin : model.linearsWithHead()) {
      if (lin.adapter() != null) {
        s.linear.add(lin.adapter());
        s.linearOn.add(lin.adapter().enabled());
      }
    }
    for (CausalLM.Layer l : model.layers) {
      if (l.mlpAdapter() != null) {
        s.residual.add(l.mlpAdapter());
        s.residualOn.add(l.mlpAdapter().enabled());
      }
    }
    return s;
  }

  /** Whether any adapter is switched on. */
  boolean anyOn() {
    return linearOn.contains(Boolean.TRUE) || residualOn.contains(Boolean.TRUE);
  }

  void allOff() {
    linear.forEach(a -> a.setEnabled(false));
    residual.forEach(a -> a.setEnabled(false));
  }

  /** Puts every switch back as recorded. */
  void restore() {
    for (int i = 0; i < linear.size(); i++) {
      linear.get(i).setEnabled(linearOn.get(i));
    }
    for (int i = 0; i < residual.size(); i++) {
      residual.get(i).setEnabled(residualOn.get(i));
    }
  }
}
