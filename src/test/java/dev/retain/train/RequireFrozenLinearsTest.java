package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelConfig;
import dev.retain.model.ModelLoader;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraConfig;
import dev.retain.peft.lora.TargetModules;
import org.junit.jupiter.api.Test;

/**
 * bfloat16 copies of the base's linear weights hold only while none of them trains: the recipe's
 * check over the run's and every stage's selection, with a tied and an untied head.
 */
class RequireFrozenLinearsTest {

  static CausalLM model(boolean tied) {
    ObjectNode json = ModelConfig.llamaJson(40, 16, 32, 2, 4, 2);
    json.put("tie_word_embeddings", tied);
    CausalLM m = ModelLoader.random(ModelConfig.fromJson(json, tied ? "tied" : "untied"), 1, 0.1);
    Lora.apply(m, new LoraConfig(2, 4, 0.0, false, TargetModules.names("q_proj", "v_proj"), null), 2);
    return m;
  }

  static RunConfig.Training trainable(String what, String... stages) {
    RunConfig.Training t = new RunConfig.Training();
    t.trainable = what;
    for (String s : stages) {
      RunConfig.Stage st = new RunConfig.Stage();
      st.trainable = s;
      st.steps = 1;
      t.stages = new java.util.ArrayList<>(t.stages);
      t.stages.add(st);
    }
    return t;
  }

  static void allowed(CausalLM m, RunConfig.Training t) {
    Recipe.requireFrozenLinears("training.base_precision", t, m);
  }

  static void refused(CausalLM m, RunConfig.Training t, String selector, String weight) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> allowed(m, t));
    assertTrue(e.getMessage().startsWith("training.base_precision: ") && e.getMessage().contains("'" + selector + "'")
        && e.getMessage().contains(weight) && e.getMessage().contains("base_precision: float32"), e.getMessage());
  }

  @Test
  void normsAndAnUntiedEmbeddingMayTrainALinearWeightMayNot() {
    try (CausalLM m = model(false)) {
      allowed(m, trainable(null));
      allowed(m, trainable("adapters+norm+embeddings"));
      refused(m, trainable("adapters+top:1"), "adapters+top:1", "model.layers.1.");
      refused(m, trainable("adapters+head"), "adapters+head", "lm_head.weight");
      // The stages' selections count, not the run's (unused when stages are given).
      allowed(m, trainable("all", "adapters", "adapters+norm"));
      refused(m, trainable(null, "adapters", "adapters+regex:mlp"), "adapters+regex:mlp", "mlp");
    }
  }

  @Test
  void aTiedEmbeddingIsTheHeadsWeight() {
    try (CausalLM m = model(true)) {
      allowed(m, trainable("adapters+norm"));
      refused(m, trainable("adapters+embeddings"), "adapters+embeddings", "model.embed_tokens.weight");
    }
  }
}
