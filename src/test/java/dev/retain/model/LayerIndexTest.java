package dev.retain.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LayerIndexTest {
  @Test
  void layerOfCheckpointAndModuleNames() {
    assertEquals(3, CausalLM.layerIndex("model.layers.3.mlp.up_proj.weight"));
    assertEquals(12, CausalLM.layerIndex("model.layers.12.self_attn.q_proj"));
    assertEquals(0, CausalLM.layerIndex("model.layers.0.self_attn.v_proj.lora_A.weight"));
    assertEquals(-1, CausalLM.layerIndex("model.embed_tokens.weight"));
    assertEquals(-1, CausalLM.layerIndex("model.norm.weight"));
    assertEquals(-1, CausalLM.layerIndex("lm_head.weight"));
    assertEquals(-1, CausalLM.layerIndex("model.layers.x.mlp.up_proj.weight"));
    assertEquals(-1, CausalLM.layerIndex("base_model.model.model.layers.1.mlp.up_proj"));
  }
}
