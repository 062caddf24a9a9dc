package dev.retain.retention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.retain.data.Batch;
import dev.retain.model.Bfloat16Copies;
import dev.retain.model.CausalLM;
import dev.retain.model.PackedInputs;
import dev.retain.tensor.Consts;
import dev.retain.tensor.Host;
import dev.retain.train.LossTerm;
import dev.retain.train.StepContext;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Knowledge distillation from the original model (Hinton, Vinyals and Dean 2015, "Distilling the
 * knowledge in a neural network"; as a guard against forgetting, Li and Hoiem 2016, "Learning without
 * Forgetting"):
 *
 * <pre>
 *   kd = weight * T^2 * mean over target positions p of KL( softmax(z_teacher(p) / T) || softmax(z_student(p) / T) )
 *   KL(P || Q) = sum_v P_v (log P_v - log Q_v)
 * </pre>
 *
 * The trainer adds this to the cross-entropy, so the step's loss is CE + weight * T^2 * KL: "mixed
 * with CE by a weight". The mean runs over the positions whose next token is a training target (the
 * target positions of {@link dev.retain.model.PackedInputs}), within the rows chosen by {@link On}: all rows,
 * only rows of general (replay) sources, or only domain rows. A micro-batch without a chosen target
 * position contributes nothing (null). T^2 keeps the gradient's scale independent of T.
 *
 * <p>The teacher is the base model. With adapters (LoRA, bottleneck) it is the same model with every
 * adapter switched off for the teacher pass, then switched back exactly as it was: no copy. For full
 * fine-tuning pass a frozen copy of the starting model ({@link #Distillation(CausalLM, double, double,
 * On, Set)}). The teacher pass runs with autograd recording off, so its logits carry no gradient
 * (also when some base weights train next to the adapters; the teacher is then the current base
 * weights, not the original ones).
 *
 * <p>{@link #withBfloat16Teacher} runs the teacher's linear layers on bfloat16 copies of its weights,
 * taken once at the start, so those weights must not train (norms may: the teacher reads them as they
 * are now, as the float32 teacher does): on CPUs with AVX512-BF16 its pass takes 27-42% less time,
 * and its logits move by about 0.5% of the largest.
 */
public final class Distillation implements LossTerm {
  /** Which rows of a batch are distilled. */
  public enum On {
    /** Every row. */
    ALL,
    /** Rows of the general (replay) sources. */
    GENERAL,
    /** Rows of the other (domain) sources. */
    DOMAIN;

    /** Parses "all", "general" or "domain" (any case). */
    public static On parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("distillation 'on' must be all, general or domain, got '" + s + "'");
      }
    }
  }

  private final CausalLM teacher;
  private final double weight;
  private final double temperature;
  private final On on;
  private final Set<String> generalSources;
  private final Bfloat16Copies bfloat16; // null: the teacher runs in float32

  /**
   * Teacher = the trained model with its adapters switched off.
   *
   * @param weight weight of the term next to CE, >= 0
   * @param temperature T > 0
   * @param on which rows to distil
   * @param generalSources names of the general (replay) sources (used by GENERAL and DOMAIN)
   */
  public Distillation(double weight, double temperature, On on, Set<String> generalSources) {
    this(null, weight, temperature, on, generalSources);
  }

  /**
   * Teacher = {@code teacher}, a frozen copy of the starting model (full fine-tuning); null means the
   * trained model with adapters off. The teacher must have the same vocabulary and live on the same
   * device; its weights are never trained.
   */
  public Distillation(CausalLM teacher, double weight, double temperature, On on, Set<String> generalSources) {
    this(teacher, weight, temperature, on, generalSources, null);
  }

  private Distillation(CausalLM teacher, double weight, double temperature, On on, Set<String> generalSources,
      Bfloat16Copies bfloat16) {
    if (!(weight >= 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("distillation weight must be a finite number >= 0, got " + weight);
    }
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("distillation temperature must be a finite number > 0, got " + temperature);
    }
    this.teacher = teacher;
    this.weight = weight;
    this.temperature = temperature;
    this.on = Objects.requireNonNull(on, "on");
    this.generalSources = Set.copyOf(generalSources);
    this.bfloat16 = bfloat16;
    if (on != On.ALL && generalSources.isEmpty()) {
      throw new IllegalArgumentException("distillation on " + on.name().toLowerCase(Locale.ROOT)
          + " rows needs the names of the general sources; none were given");
    }
  }

  /**
   * The same term with the teacher's linear layers on {@code copies}, bfloat16 copies of the teacher's
   * weights: of the frozen copy given as teacher, or of the trained model (whose base weights the
   * teacher pass uses with adapters off). The caller owns and closes the copies.
   */
  public Distillation withBfloat16Teacher(Bfloat16Copies copies) {
    Objects.requireNonNull(copies, "copies");
    if (teacher != null && copies.model() != teacher) {
      throw new IllegalArgumentException("distillation: the bfloat16 copies must be of the teacher model");
    }
    return new Distillation(teacher, weight, temperature, on, generalSources, copies);
  }

  @Override
  public String name() {
    return "kd";
  }

  /** Whether row {@code r} of {@code batch} is distilled. */
  boolean selected(Batch batch, int r) {
    return switch (on) {
      case ALL -> true;
      case GENERAL -> generalSources.contains(batch.rowSources()[r]);
      case DOMAIN -> !generalSources.contains(batch.rowSources()[r]);
    };
  }

  @Override
  public NDArray loss(StepContext ctx) {
    Batch b = Objects.requireNonNull(ctx.batch, "distillation needs the step's batch");
    PackedInputs in = ctx.inputs;
    int[] chosen = new int[in.rows];
    boolean[] taken = new boolean[in.rows];
    int k = 0;
    int count = 0;
    for (int r = 0; r < in.rows; r++) {
      int n = in.countInRow(r);
      if (n > 0 && selected(b, r)) {
        taken[r] = true;
        chosen[k++] = r;
        count += n;
      }
    }
    if (count == 0) {
      return null;
    }
    if (teacher != null && teacher.config.vocabSize != ctx.model.config.vocabSize) {
      throw new IllegalArgumentException("distillation: the teacher's vocabulary (" + teacher.config.vocabSize
          + ") differs from the student's (" + ctx.model.config.vocabSize + "); the teacher must be a copy of the starting model");
    }
    NDArray student = ctx.logits;
    PackedInputs rows = in;
    if (k < in.rows) {
      // The teacher runs on the chosen rows only; the student's logits are those rows' target positions.
      long[] keep = new long[count];
      for (int n = 0, j = 0; n < in.count(); n++) {
        if (taken[in.rowOf(n)]) {
          keep[j++] = n;
        }
      }
      student = student.get(new NDIndex("{}", Host.of(student.getManager(), keep)));
      rows = in.select(java.util.Arrays.copyOf(chosen, k));
    }
    NDArray mean = Host.scalar(student.getManager(), (float) (weight / count));
    return klLoss(student, teacherLogits(ctx.model, rows), temperature).mul(mean);
  }

  /**
   * T^2 * sum over positions of KL(softmax(teacher/T) || softmax(student/T)), KL over the last axis;
   * student in the graph, teacher constant. Shapes [N, V].
   */
  static NDArray klLoss(NDArray student, NDArray teacher, double temperature) {
    NDArray invT = Consts.of((float) (1.0 / temperature));
    NDArray logQ = student.mul(invT).logSoftmax(-1);
    NDArray logP = teacher.stopGradient().mul(invT).logSoftmax(-1);
    NDArray kl = logP.exp().mul(logP.sub(logQ)).sum();
    return kl.mul(Consts.of((float) (temperature * temperature)));
  }

  /** The teacher's logits [N, V] at the target positions of {@code in}, with autograd off (adapters off, or the frozen copy). */
  NDArray teacherLogits(CausalLM model, PackedInputs in) {
    if (bfloat16 != null && bfloat16.model() != (teacher != null ? teacher : model)) {
      throw new IllegalStateException("distillation: the bfloat16 copies are of another model than this teacher");
    }
    return NoGrad.get(() -> Bfloat16Copies.run(bfloat16, () -> teacherPass(model, in)));
  }

  /** The teacher's forward at the target positions: the frozen copy, or the model with its adapters off. */
  private NDArray teacherPass(CausalLM model, PackedInputs in) {
    if (teacher != null) {
      return teacher.targetLogits(in).stopGradient();
    }
    AdapterSwitch s = AdapterSwitch.of(model);
    if (!s.anyOn()) {
      throw new IllegalStateException("distillation: the model has no adapter switched on, so 'adapters off' is the "
          + "student itself and the loss would be zero; for full fine-tuning give a frozen copy of the starting model "
          + "as the teacher");
    }
    s.allOff();
    try {
      return model.targetLogits(in).stopGradient();
    } finally {
      s.restore();
    }
  }

  public double weight() {
    return weight;
  }

  public double temperature() {
    return temperature;
  }

  public On on() {
    return on;
  }

  @Override
  public String describe() {
    return String.format("distillation weight=%g T=%g on %s rows, teacher: %s%s", weight, temperature,
        on.name().toLowerCase(Locale.ROOT), teacher == null ? "the base model (adapters off)" : "a frozen copy of the starting model",
        bfloat16 == null ? "" : ", its matmuls in bfloat16");
  }
}
