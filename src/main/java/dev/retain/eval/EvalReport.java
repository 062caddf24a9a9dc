package dev.retain.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.util.Json;
import java.util.List;
import java.util.Locale;

/**
 * A model's probe scores, optionally next to its base model's: the table `retain eval` prints and
 * the JSON it writes, with the forgetting metrics per suite (retention for general suites, gain for
 * domain suites; cross-entropy rise for text suites).
 */
public record EvalReport(String model, List<ProbeRunner.Result> after, String base, List<ProbeRunner.Result> before) {

  public String table() {
    StringBuilder sb = new StringBuilder();
    boolean withBase = before != null;
    sb.append(String.format(Locale.ROOT, "%-16s %-7s %-6s %5s  %-22s", "suite", "role", "kind", "n", "score [95% CI]"));
    if (withBase) {
      sb.append(String.format(Locale.ROOT, " %-22s %s", "base [95% CI]", "change"));
    }
    sb.append('\n');
    for (int i = 0; i < after.size(); i++) {
      ProbeRunner.Result a = after.get(i);
      sb.append(String.format(Locale.ROOT, "%-16s %-7s %-6s %5d  %-22s", a.name(), a.role(), a.kind().name().toLowerCase(Locale.ROOT),
          a.n(), cell(a)));
      if (withBase) {
        ProbeRunner.Result b = before.get(i);
        sb.append(String.format(Locale.ROOT, " %-22s %s", cell(b), change(b, a)));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static String cell(ProbeRunner.Result r) {
    if (r.kind() == Probes.Kind.TEXT) {
      return String.format(Locale.ROOT, "CE %.3f (ppl %.1f)", r.score(), r.perplexity());
    }
    return String.format(Locale.ROOT, "%5.1f%% [%4.1f, %4.1f]", 100 * r.score(), 100 * r.low(), 100 * r.high());
  }

  static String change(ProbeRunner.Result before, ProbeRunner.Result after) {
    if (after.kind() == Probes.Kind.TEXT) {
      return String.format(Locale.ROOT, "CE %+.3f nats", Forgetting.ceRise(before.score(), after.score()));
    }
    if ("general".equals(after.role())) {
      return String.format(Locale.ROOT, "retention %.1f%% (drop %+.1f pts)", 100 * Forgetting.retention(before.score(), after.score()),
          -100 * Forgetting.drop(before.score(), after.score()));
    }
    return String.format(Locale.ROOT, "gain %+.1f pts", 100 * Forgetting.domainGain(before.score(), after.score()));
  }

  public ObjectNode json() {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("model", model);
    if (base != null) {
      root.put("base", base);
    }
    ArrayNode suites = root.putArray("suites");
    for (int i = 0; i < after.size(); i++) {
      ProbeRunner.Result a = after.get(i);
      ObjectNode s = suites.addObject();
      s.put("name", a.name());
      s.put("role", a.role());
      s.put("kind", a.kind().name().toLowerCase(Locale.ROOT));
      s.put("n", a.n());
      put(s.putObject("after"), a);
      if (before != null) {
        ProbeRunner.Result b = before.get(i);
        put(s.putObject("before"), b);
        if (a.kind() == Probes.Kind.TEXT) {
          s.put("ce_rise", Forgetting.ceRise(b.score(), a.score()));
        } else if ("general".equals(a.role())) {
          s.put("retention", Forgetting.retention(b.score(), a.score()));
          s.put("drop", Forgetting.drop(b.score(), a.score()));
        } else {
          s.put("gain", Forgetting.domainGain(b.score(), a.score()));
        }
      }
    }
    return root;
  }

  private static void put(ObjectNode n, ProbeRunner.Result r) {
    if (r.kind() == Probes.Kind.TEXT) {
      n.put("cross_entropy", r.score());
      n.put("perplexity", r.perplexity());
    } else {
      n.put("accuracy", r.score());
      n.put("correct", r.correct());
      n.put("ci_low", r.low());
      n.put("ci_high", r.high());
    }
    n.put("seconds", r.seconds());
  }
}
