/**
 * What keeps old knowledge while a model learns a new domain: each method is a small
 * {@link dev.retain.train.LossTerm} (Avalanche-plugin style) the trainer adds to the cross-entropy.
 *
 * <ul>
 *   <li>{@link dev.retain.retention.Ewc}: (lambda/2) sum F (theta - theta*)^2, online variant
 *       F &lt;- gamma F + F_new;
 *   <li>{@link dev.retain.retention.SynapticIntelligence}: c sum Omega (theta - theta*)^2 with Omega
 *       from the path integral of -g * delta_theta;
 *   <li>{@link dev.retain.retention.L2SP}: (alpha/2) sum (theta - theta*)^2;
 *   <li>{@link dev.retain.retention.Distillation}: weight * T^2 * KL(teacher || student) at temperature
 *       T, teacher = the base model (adapters off) or a frozen copy;
 *   <li>{@link dev.retain.retention.Importance}: the per-parameter importance (Fisher or SI Omega),
 *       its estimation and its safetensors file.
 * </ul>
 *
 * <p>Decisions, in one place:
 *
 * <ul>
 *   <li>Fisher: empirical, diagonal, <b>per sequence</b> (log p of a sequence = sum of its target
 *       tokens' log-probabilities; one backward per sequence, so the squared per-sample gradient is
 *       exact), taken on the base model (adapters off) for every base parameter unless told otherwise.
 *   <li>Drift (EWC, SI, L2-SP): theta - theta* for trainable weights; for a base weight with a LoRA-style
 *       adapter, the adapter's effective change deltaWeight() (+ W - W* if W trains too), penalised with
 *       the base weight's importance; frozen weights are skipped. theta* is a frozen copy taken when a
 *       weight is first seen trainable, i.e. its value when the term was created (create terms before
 *       training and before resuming).
 *   <li>SI: g = the back-propagated gradient of the step's loss (CE + other terms, before clipping) minus
 *       SI's own penalty gradient; delta_theta = the optimizer's actual change. The penalty uses the
 *       Omega consolidated before the run (a file); this run's omega is consolidated at its end
 *       ({@code consolidated()}) into the same file format. omega is checkpointed, so resume is exact.
 *   <li>Distillation: mean over target positions of the chosen rows (all, general or domain sources);
 *       the teacher pass runs with autograd off.
 * </ul>
 */
package dev.retain.retention;
