package dev.retain.eval.report;

import static dev.retain.eval.report.Derived.Check.FAIL;
import static dev.retain.eval.report.Derived.Check.NA;
import static dev.retain.eval.report.Derived.Check.PASS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every derived number against the hand computation in {@link Fixtures}. */
class DerivedTest {
  private static final double TOL = 1e-12;

  private static Map<String, Derived> byName(Comparison c) {
    return Derived.of(c).stream().collect(Collectors.toMap(Derived::method, Function.identity()));
  }

  @Test
  void retentionDropGainAndReductionByHand() {
    Map<String, Derived> d = byName(Fixtures.comparison());
    assertEquals(0.75, d.get("naive").retention(), TOL);
    assertEquals(0.20, d.get("naive").drop(), TOL);
    assertEquals(0.0, d.get("naive").forgettingReduction(), TOL);
    assertEquals(0.40, d.get("naive").domainGain(), TOL);
    assertEquals(0.50, d.get("naive").ceRise(), TOL);

    assertEquals(0.975, d.get("replay").retention(), TOL);
    assertEquals(0.02, d.get("replay").drop(), TOL);
    assertEquals(0.90, d.get("replay").forgettingReduction(), TOL);  // 1 - 0.02 / 0.20
    assertEquals(0.36, d.get("replay").domainGain(), TOL);
    assertEquals(0.90, d.get("replay").shareOfNaiveGain(), TOL);
    assertEquals(0.05, d.get("replay").ceRise(), TOL);

    assertEquals(0.95, d.get("ewc").retention(), TOL);
    assertEquals(0.80, d.get("ewc").forgettingReduction(), TOL);
    assertEquals(0.34, d.get("ewc").domainGain(), TOL);

    assertEquals(0.9875, d.get("lora").retention(), TOL);
    assertEquals(0.95, d.get("lora").forgettingReduction(), TOL);
    assertEquals(0.20, d.get("lora").domainGain(), TOL);
    assertEquals(294_912 / 7_094_912.0, d.get("lora").trainableShare(), TOL);
    assertEquals(1.0, d.get("naive").trainableShare(), TOL);

    // Better than base: retention above 1, negative drop, reduction above 1.
    assertEquals(1.0125, d.get("all").retention(), TOL);
    assertEquals(-0.01, d.get("all").drop(), TOL);
    assertEquals(1.05, d.get("all").forgettingReduction(), TOL);
    assertEquals(-0.01, d.get("all").ceRise(), TOL);
  }

  @Test
  void targetFlagsIncludingTheBoundaries() {
    Map<String, Derived> d = byName(Fixtures.comparison());
    // naive reaches its own gain but forgets.
    assertEquals(FAIL, d.get("naive").keepsGeneral());
    assertEquals(PASS, d.get("naive").reachesDomain());
    assertEquals(FAIL, d.get("naive").meetsTargets());
    assertEquals(PASS, d.get("replay").meetsTargets());
    // 0.76 / 0.80 is 0.95 on paper (0.9499999... in doubles): counts as keeping 95%.
    assertEquals(PASS, d.get("ewc").keepsGeneral());
    assertEquals(PASS, d.get("ewc").meetsTargets());
    // Keeps general but reaches only half of naive's gain.
    assertEquals(PASS, d.get("lora").keepsGeneral());
    assertEquals(FAIL, d.get("lora").reachesDomain());
    assertEquals(FAIL, d.get("lora").meetsTargets());
    // 0.32 / 0.40 = 0.80 exactly: reaches the domain target.
    assertEquals(0.80, d.get("all").shareOfNaiveGain(), TOL);
    assertEquals(PASS, d.get("all").reachesDomain());
    assertEquals(PASS, d.get("all").meetsTargets());
  }

  @Test
  void paretoFrontAndBestMethod() {
    List<Derived> all = Derived.of(Fixtures.comparison());
    assertEquals(List.of("naive", "replay", "all"), all.stream().filter(Derived::onParetoFront).map(Derived::method).toList());
    // Highest gain among retention >= 0.95: replay (0.36) over ewc (0.34), all (0.32), lora (0.20).
    assertEquals("replay", Derived.best(all).orElseThrow().method());
  }

  @Test
  void withoutANaiveRunReductionAndDomainTargetAreNotApplicable() {
    Comparison full = Fixtures.comparison();
    Comparison c = new Comparison(full.baseModel(), full.baseGeneral(), full.baseDomain(), full.baseGeneralCe(), full.baseSuites(),
        full.preset(), full.seed(), full.data(), full.methods().subList(1, full.methods().size()), full.machine(), full.date());
    Map<String, Derived> d = byName(c);
    assertTrue(Double.isNaN(d.get("replay").forgettingReduction()));
    assertTrue(Double.isNaN(d.get("replay").shareOfNaiveGain()));
    assertEquals(0.36, d.get("replay").domainGain(), TOL);
    assertEquals(PASS, d.get("replay").keepsGeneral());
    assertEquals(NA, d.get("replay").reachesDomain());
    assertEquals(NA, d.get("replay").meetsTargets());
    assertEquals("replay", Derived.best(Derived.of(c)).orElseThrow().method());
  }

  @Test
  void whenNoMethodKeeps95PercentTheHighestRetentionWins() {
    List<MethodResult> m = List.of(
        Fixtures.method("naive", "", 0.40, 0.70, 3.0, 1, 1).build(),
        Fixtures.method("a", "", 0.70, 0.50, 3.0, 1, 1).build(),   // retention 0.875
        Fixtures.method("b", "", 0.72, 0.40, 3.0, 1, 1).build());  // retention 0.90
    Comparison c = new Comparison("m", Score.point(0.80), Score.point(0.30), 2.0, null, "quick", 1, "", m, null, "");
    List<Derived> d = Derived.of(c);
    assertEquals("b", Derived.best(d).orElseThrow().method());
    assertTrue(d.stream().allMatch(x -> x.keepsGeneral() == FAIL));
    // naive did forget (drop 0.40): b's reduction = 1 - 0.08 / 0.40.
    assertEquals(0.8, d.get(2).forgettingReduction(), TOL);
  }

  @Test
  void naiveThatDidNotForgetOrLearnLeavesReductionAndDomainTargetOpen() {
    List<MethodResult> m = List.of(
        Fixtures.method("naive", "", 0.82, 0.30, 2.0, 1, 1).build(),
        Fixtures.method("x", "", 0.80, 0.35, 2.0, 1, 1).build());
    Comparison c = new Comparison("m", Score.point(0.80), Score.point(0.30), 2.0, null, "quick", 1, "", m, null, "");
    Derived x = Derived.of(c).get(1);
    assertTrue(Double.isNaN(x.forgettingReduction()));
    assertEquals(NA, x.reachesDomain());
    assertFalse(Double.isNaN(x.domainGain()));
  }

  @Test
  void missingScoresGiveNaNNotNumbers() {
    MethodResult blank = MethodResult.builder("naive").build();
    Comparison c = new Comparison("m", Score.point(0.80), Score.point(0.30), 2.0, null, "quick", 1, "", List.of(blank), null, "");
    Derived d = Derived.of(c).get(0);
    assertTrue(Double.isNaN(d.retention()));
    assertTrue(Double.isNaN(d.domainGain()));
    assertTrue(Double.isNaN(d.ceRise()));
    assertTrue(Double.isNaN(d.trainableShare()));
    assertEquals(NA, d.meetsTargets());
    assertFalse(d.onParetoFront());
    assertTrue(Derived.best(List.of(d)).isEmpty());
  }

  @Test
  void inputsAreValidated() {
    MethodResult a = MethodResult.builder("a").build();
    IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
        () -> new Comparison("m", null, null, 0, null, "", 0, "", List.of(a, a), null, ""));
    assertTrue(dup.getMessage().contains("'a'"), dup.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Comparison("m", null, null, 0, null, "", 0, "", List.of(), null, ""));
    assertThrows(IllegalArgumentException.class, () -> MethodResult.builder(" ").build());
    assertThrows(IllegalArgumentException.class, () -> new Score(0.5, 0.6, 0.4));
    Score w = Score.wilson(8, 10);
    assertEquals(0.8, w.value(), TOL);
    assertEquals(0.4902, w.low(), 1e-4);
    assertEquals(0.9433, w.high(), 1e-4);
  }
}
