package dev.retain.eval.report;

/**
 * One live evaluation during training: general and domain scores (accuracies in [0, 1]) and the
 * training loss at {@code step}. NaN marks a value that was not measured at that step.
 */
public record CurvePoint(long step, double general, double domain, double trainLoss) {}
