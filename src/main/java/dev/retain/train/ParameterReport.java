package dev.retain.train;

import dev.retain.model.CausalLM;
import dev.retain.model.Parameter;
import java.util.Map;
import java.util.Set;

/** Trainable versus total parameters, printed at the start of every run. */
public record ParameterReport(long total, long trainable, long adapter) {
  /** Counts the model's parameters; {@code trainableNames} empty means "those flagged trainable now". */
  public static ParameterReport of(CausalLM model, Set<String> adapterNames) {
    long total = 0;
    long trainable = 0;
    long adapter = 0;
    for (Map.Entry<String, Parameter> e : model.allParameters().entrySet()) {
      long n = e.getValue().numel();
      total += n;
      if (e.getValue().trainable()) {
        trainable += n;
      }
      if (adapterNames.contains(e.getKey())) {
        adapter += n;
      }
    }
    return new ParameterReport(total, trainable, adapter);
  }

  public String describe() {
    return String.format("parameters: %,d trainable of %,d (%.3f%%)%s", trainable, total, 100.0 * trainable / Math.max(1, total),
        adapter > 0 ? String.format(", adapters %,d", adapter) : "");
  }
}
