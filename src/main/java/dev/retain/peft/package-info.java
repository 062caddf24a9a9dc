/**
 * Parameter-efficient fine-tuning: LoRA ({@link dev.retain.peft.lora}) and bottleneck adapters
 * ({@link dev.retain.peft.bottleneck}), each in its own folder as PEFT organises its tuners.
 *
 * <p>Adapters attach to the model through two hooks of {@code dev.retain.model}: a
 * {@link dev.retain.model.LinearAdapter} on a {@link dev.retain.model.Linear} (LoRA) and a
 * {@link dev.retain.model.ResidualAdapter} after a layer's MLP (bottleneck). Their parameters carry
 * names in the same namespace as the base weights ({@code model.layers.0.self_attn.q_proj.lora_A.weight},
 * {@code model.layers.3.mlp_adapter.down.weight}), so freezing, optimizers, checkpoints and
 * importance files all speak one language. Switching adapters off ({@link Adapter#setEnabled})
 * gives back the base model's function exactly: that is the distillation teacher, without a copy.
 *
 * <p>Files: LoRA is read and written in PEFT's layout (adapter_config.json +
 * adapter_model.safetensors with keys prefixed {@code base_model.model.}), so
 * {@code PeftModel.from_pretrained} loads what retain writes and retain loads what PEFT writes.
 * Bottleneck adapters have no PEFT form; their small format is documented in docs/adapters.md.
 * {@link AdapterFolder#load} detects which one a folder holds.
 *
 * <p>Decisions written down here: random initialisation is drawn in Java from a seed (one
 * stream per module, derived from the seed and the module's name, so adding a target does not
 * change the others); LoRA dropout is drawn by the engine's generator ({@code Backend.seed}) and is
 * active only while the adapter is in training mode (see {@code LoraModel.setTraining}); a loaded
 * adapter is frozen unless asked otherwise (PEFT's {@code is_trainable=False}).
 */
package dev.retain.peft;
