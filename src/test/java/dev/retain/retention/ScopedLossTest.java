package dev.retain.retention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.model.Parameter;
import dev.retain.tensor.Backend;
import dev.retain.tensor.Grads;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * EWC, SI and L2-SP called in a scope of their own (LossTerm.scopedLoss, as the trainer calls them)
 * over several steps, with the weights moving between steps: the same values and gradients, bit for
 * bit, as the plain call. Their cached tensors (Fisher values, anchors, SI's running sums) are made
 * outside any step scope, so the term's own scope must not close them.
 */
class ScopedLossTest {

  @ParameterizedTest
  @ValueSource(strings = {"ewc", "si", "l2sp"})
  void aScopedTermMatchesThePlainCallOverSteps(String kind) throws Exception {
    float[] plain = run(kind, false);
    float[] scoped = run(kind, true);
    assertArrayEquals(plain, scoped, kind);
  }

  /** Per step: the term's value, then every gradient element; the weights move by a fixed rule. */
  static float[] run(String kind, boolean scoped) throws Exception {
    List<Float> out = new ArrayList<>();
    try (CausalLM model = ModelLoader.random(ModelConfig.fromJson(ModelConfig.llamaJson(64, 32, 64, 2, 4, 2), "t"), 6, 0.1)) {
      Map<String, float[]> values = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      SplittableRandom r = new SplittableRandom(1);
      for (Parameter p : model.allParameters().values()) {
        float[] f = new float[(int) p.numel()];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) r.nextDouble();
        }
        values.put(p.name(), f);
        shapes.put(p.name(), p.data().getShape().getShape());
      }
      Importance importance = EwcTest.importance(values, shapes);
      LossTerm term = switch (kind) {
        case "ewc" -> new Ewc(model, importance, 3.0);
        case "si" -> new SynapticIntelligence(model, 2.0, 0.1, importance);
        default -> new L2SP(model, 1.5);
      };
      Map<String, Parameter> trainable = model.allParameters();
      trainable.values().forEach(p -> p.setTrainable(true));
      term.onTrainableChanged(trainable.keySet());
      for (int step = 0; step < 4; step++) {
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          StepContext ctx = new StepContext(step, model, null, null, null, trainable, 0.01);
          try (GradientCollector gc = Backend.engine().newGradientCollector()) {
            NDArray v = scoped ? LossTerm.scopedLoss(term, ctx) : term.loss(ctx);
            System.gc(); // closed handles must not matter to the backward (djl-notes.md, pitfall 1)
            out.add(v.getFloat());
            gc.backward(v);
            term.afterBackward(ctx);
          }
          for (Parameter p : trainable.values()) {
            float[] g = p.data().getGradient().toFloatArray();
            float[] w = p.data().toFloatArray();
            for (int i = 0; i < g.length; i++) {
              out.add(g[i]);
              w[i] -= 0.01f * g[i] + 0.001f * (float) Math.sin(7.0 * i + step);
            }
            Grads.zero(p.data());
            Support.set(p, w);
          }
          term.afterOptimizerStep(StepContext.afterStep(step, model, trainable, 0.01));
        }
      }
      ((AutoCloseable) term).close();
    }
    float[] o = new float[out.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = out.get(i);
    }
    return o;
  }
}
