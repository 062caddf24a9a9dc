package dev.retain.config;

/**
 * Cross-field rules that one annotation on one field cannot express ("warmup_steps must be below
 * max_steps", "stage learning rates must decrease"). {@link ConfigBinder} calls {@link #validate}
 * on every config object of the tree that implements it, once all single values are valid, with an
 * error collector scoped to that object's key path: in a list element, {@code errors.add("lr",
 * "must be > 0")} reports {@code stages[1].lr must be > 0} at the line where it was written.
 */
public interface Validatable {
  void validate(ConfigErrors errors);
}
