/**
 * The report of {@code retain compare}: every method's domain gain next to its general retention.
 *
 * <h2>Input</h2>
 *
 * The comparison runner fills a {@link dev.retain.eval.report.Comparison} (base model scores, preset,
 * seed, data, machine, a caller-supplied date) with one {@link dev.retain.eval.report.MethodResult}
 * per method (scores after training with 95% intervals, general cross-entropy, parameters, peak
 * memory, speed, per-suite scores, live curves, optional Fisher mass per layer). The report never
 * reads the clock or the machine itself, so the same input gives byte-identical files.
 *
 * <h2>Derived numbers</h2>
 *
 * {@link dev.retain.eval.report.Derived} computes them with {@link dev.retain.eval.Forgetting}:
 * retention = G_after / G_before, drop = G_before - G_after, forgetting reduction = 1 - drop(M) /
 * drop(naive), domain gain = D_after - D_before, general CE rise = CE_after - CE_before. Decisions:
 *
 * <ul>
 *   <li>The reference is the method named exactly {@code "naive"}. Without it, forgetting
 *       reduction and the domain target are not applicable (NaN / null / "n/a"); so are they when
 *       naive did not forget (drop <= 0) or did not learn (gain <= 0), since there is nothing to
 *       reduce or reach.
 *   <li>Targets: keeps general = retention >= 0.95; reaches domain = gain >= 0.80 x naive's gain;
 *       meets targets = both. Thresholds allow 1e-9 so that 0.76 / 0.80 counts as 95%.
 *   <li>Best method: the highest domain gain among methods with retention >= 0.95 (ties: higher
 *       retention, then earlier in the list); if none keeps 95%, the highest retention.
 *   <li>Pareto front over (domain gain, retention), both maximised ({@link
 *       dev.retain.eval.report.Pareto}); methods with a missing score are left out of it.
 * </ul>
 *
 * <h2>Files</h2>
 *
 * {@link dev.retain.eval.report.ComparisonReport#write} writes into the output folder, each file
 * atomically (temporary name, fsync, rename), charts first and report.html last:
 *
 * <ul>
 *   <li>{@code pareto.png}: domain gain (x, points) against retention (y, %), a labelled point per
 *       method, the Pareto front as a dashed line, guides at 100%, 95% and 80% of naive's gain.
 *   <li>{@code curves-general.png}, {@code curves-domain.png}, {@code curves-loss.png}: live
 *       general score, domain score and training loss over steps, a series per method; only when
 *       some method recorded such points.
 *   <li>{@code fisher.png}: summed Fisher per layer, a bar series per method that has one; only when
 *       some method has one. A chart that is not drawn this time is deleted if an earlier run left
 *       it, so the folder never mixes runs.
 *   <li>{@code report.json}: see below.
 *   <li>{@code report.md}: title, run line, summary paragraph, method table (the same table
 *       {@link dev.retain.eval.report.ComparisonReport#markdownTable} prints), method descriptions,
 *       per-suite scores, links to the charts, definitions.
 *   <li>{@code report.html}: the same, self-contained (inline CSS, no scripts, no external
 *       resources), with every chart embedded as a {@code data:image/png;base64} URI. Charts are
 *       drawn with JFreeChart, headless, at 900 x 560 pixels.
 * </ul>
 *
 * <h2>report.json (schema "retain.compare/1")</h2>
 *
 * Keys appear in this order; numbers that were not measured are {@code null}, never NaN; scores are
 * fractions in [0, 1], gains are differences of fractions, cross-entropies are nats per token.
 *
 * <pre>
 * schema, title, date, preset, seed, data,
 * machine:  {cores, jvm}
 * base:     {model, general: {score, ci_low, ci_high}, domain: {score, ci_low, ci_high}, general_ce,
 *            suites: [{name, role, kind, score}]}
 * targets:  {min_retention, min_share_of_naive_domain_gain, naive_method, naive_domain_gain}
 * best:     {method (null if none), rule}
 * summary:  the paragraph at the top of report.md
 * methods:  [{method, description, general: {score, ci_low, ci_high}, domain: {...}, general_ce,
 *             trainable_params, total_params, peak_rss_bytes, tokens_per_second, wall_seconds,
 *             derived: {retention, drop, forgetting_reduction, domain_gain,
 *                       share_of_naive_domain_gain, general_ce_rise, trainable_share,
 *                       keeps_general, reaches_domain, meets_targets (true | false | null),
 *                       on_pareto_front},
 *             suites: [{name, role, kind, score}],
 *             curve: [{step, general, domain, train_loss}],
 *             fisher_per_layer: [{layer, mass}]}]
 * pareto_front: [method names, by domain gain ascending]
 * definitions:  {term: definition} as printed in the reports
 * </pre>
 *
 * Suite {@code score} is an accuracy for "exact" and "choice" suites and a mean cross-entropy for
 * "text" suites.
 */
package dev.retain.eval.report;
