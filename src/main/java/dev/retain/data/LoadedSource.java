package dev.retain.data;

import java.util.List;
import java.util.Objects;

/**
 * A {@link Source} after tokenisation: the examples of each split with their load reports.
 *
 * @param validation null when the source has no validation file
 */
public record LoadedSource(String name, TokenizedFile train, TokenizedFile validation) {
  public LoadedSource {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(train, "train");
  }

  public List<Example> trainExamples() {
    return train.examples();
  }

  /** The validation examples; empty when there is no validation file. */
  public List<Example> validationExamples() {
    return validation == null ? List.of() : validation.examples();
  }

  public boolean hasValidation() {
    return validation != null;
  }

  /** This source's training split as a mixture part with the given weight. */
  public Mixture.Part part(double weight) {
    return new Mixture.Part(name, train.examples(), weight);
  }
}
