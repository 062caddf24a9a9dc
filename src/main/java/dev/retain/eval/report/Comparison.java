package dev.retain.eval.report;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything {@code retain compare} measured: the base model's scores and one {@link MethodResult}
 * per method, all on the same probes, data and seed.
 *
 * @param baseModel the base model's name or folder
 * @param baseGeneral the base model's general score G_before (with its 95% interval)
 * @param baseDomain the base model's domain score D_before
 * @param baseGeneralCe the base model's cross-entropy on held-out general text (nats/token)
 * @param baseSuites the base model's per-suite scores (may be empty)
 * @param preset the preset the comparison ran with ("quick", ...)
 * @param seed the seed shared by all methods
 * @param data one line describing the domain and general data
 * @param methods the methods, in the order the report shows them; names must be unique
 * @param machine where it ran
 * @param date the date (or date and time) to print, supplied by the caller so that reports are
 *     reproducible
 */
public record Comparison(String baseModel, Score baseGeneral, Score baseDomain, double baseGeneralCe,
                         List<SuiteScore> baseSuites, String preset, long seed, String data,
                         List<MethodResult> methods, Machine machine, String date) {
  /** The method that forgetting reduction and the domain target are measured against. */
  public static final String NAIVE = "naive";

  public Comparison {
    baseModel = baseModel == null ? "" : baseModel;
    baseGeneral = baseGeneral == null ? Score.missing() : baseGeneral;
    baseDomain = baseDomain == null ? Score.missing() : baseDomain;
    baseSuites = baseSuites == null ? List.of() : List.copyOf(baseSuites);
    preset = preset == null ? "" : preset;
    data = data == null ? "" : data;
    machine = machine == null ? new Machine(0, "") : machine;
    date = date == null ? "" : date;
    if (methods == null || methods.isEmpty()) {
      throw new IllegalArgumentException("a comparison needs at least one method result");
    }
    methods = List.copyOf(methods);
    Set<String> seen = new HashSet<>();
    for (MethodResult m : methods) {
      if (!seen.add(m.method())) {
        throw new IllegalArgumentException("method '" + m.method() + "' appears twice in the comparison; give each run a unique name");
      }
    }
  }

  /** The naive fine-tuning result, if it was run. */
  public Optional<MethodResult> naive() {
    return methods.stream().filter(m -> m.method().equals(NAIVE)).findFirst();
  }
}
