package dev.retain.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** What one benchmark case runs. Names are stable: they key the JSON output and the peer's --case. */
public enum BenchCase {
  /** Every weight trains (embedding, norms, head included). */
  FULL("full", "full fine-tuning", true),
  /** LoRA on q_proj and v_proj (PEFT's default), base frozen. */
  LORA_QV("lora_qv", "LoRA q,v", true),
  /**
   * LoRA q,v with the frozen base's linear layers on bfloat16 copies of their weights
   * ({@code training.base_precision: bfloat16}); adapters, norms, attention and AdamW stay float32.
   */
  LORA_QV_BF16("lora_qv_bf16", "LoRA q,v, bfloat16 base", true),
  /** LoRA on all seven projections of every layer. */
  LORA_ALL("lora_all", "LoRA all-linear", true),
  /** LoRA q,v plus distillation from the base model (adapters off) on every row. */
  LORA_KD("lora_kd", "LoRA q,v + distillation", true),
  /** As lora_kd with the teacher's linear layers on bfloat16 copies of the base weights. */
  LORA_KD_BF16("lora_kd_bf16", "LoRA q,v + distillation, bfloat16 teacher", true),
  /**
   * As lora_kd with the student and the teacher on the bfloat16 base of lora_qv_bf16 (the teacher, the
   * base with adapters off, shares its copies, as the recipe wires it).
   */
  LORA_KD_BF16_BASE("lora_kd_bf16base", "LoRA q,v + distillation, bfloat16 base", true),
  /** Full fine-tuning plus the EWC penalty over every weight. */
  FULL_EWC("full_ewc", "full + EWC", true),
  /**
   * Full fine-tuning plus distillation from a frozen copy of the starting model on every row: the
   * training side of the demo's replay+distill method.
   */
  FULL_KD("full_kd", "full + distillation", true),
  /** Forward pass and CE without gradients (held-out evaluation). */
  EVAL("eval", "evaluation (forward only)", false),
  /** Greedy generation, batch 1, with the KV cache. */
  GENERATE("generate", "generation (KV cache)", false);

  public final String id;
  public final String title;
  public final boolean training;

  BenchCase(String id, String title, boolean training) {
    this.id = id;
    this.title = title;
    this.training = training;
  }

  /** By id ("full", "lora_qv", ...). */
  public static BenchCase of(String id) {
    String s = id.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    for (BenchCase c : values()) {
      if (c.id.equals(s)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown benchmark case '" + id + "'; known: "
        + String.join(", ", Arrays.stream(values()).map(c -> c.id).toList()));
  }

  /** Whether the case trains LoRA adapters. */
  public boolean lora() {
    return loraQv() || this == LORA_ALL;
  }

  /** Whether the case trains LoRA on q_proj and v_proj. */
  public boolean loraQv() {
    return this == LORA_QV || this == LORA_QV_BF16 || this == LORA_KD || this == LORA_KD_BF16 || this == LORA_KD_BF16_BASE;
  }

  /** Whether the case distils from the base model with its adapters off. */
  public boolean loraDistills() {
    return this == LORA_KD || this == LORA_KD_BF16 || this == LORA_KD_BF16_BASE;
  }

  /** Whether the student's pass runs on bfloat16 copies of the frozen base (training.base_precision). */
  public boolean bfloat16Base() {
    return this == LORA_QV_BF16 || this == LORA_KD_BF16_BASE;
  }

  /** Every case, in table order. */
  public static List<BenchCase> all() {
    return List.of(values());
  }
}
