package dev.retain.compare;

import dev.retain.train.RunConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The methods `retain compare` trains, each derived from the user's run config by switching
 * protections on or off. Hyperparameters of a protection come from the user's config when it has
 * that section (so a tuned EWC lambda applies), else from the defaults documented here:
 *
 * <ul>
 *   <li>naive: full fine-tuning, domain data only, no protection.
 *   <li>replay: general data replayed, linear 15% -> 30% across epochs.
 *   <li>staged: top 2 layers + head for the first epoch (or third of max_steps) at the run's LR, then
 *       everything at LR/10.
 *   <li>ewc: EWC with a Fisher estimated on the general source.
 *   <li>lora: LoRA r=8, alpha=32 on q_proj and v_proj, at 3x the run's LR (adapters train slower).
 *   <li>adapters: bottleneck adapters after each MLP, at 3x the run's LR.
 *   <li>distill: distillation from the base model (weight 0.5, T = 2) on every row.
 *   <li>replay+distill: replay and distillation on full fine-tuning, the two protections that cost
 *       the domain least on the bundled model (no penalty pulling every weight back, no frozen base).
 *       Without a replay section in the user's config it replays twice the replay method's share,
 *       linear 30% -> 50%: at the full demo preset, with 15% -> 30% it kept 93.0% of the base's
 *       general score, with 30% -> 50% 98.4%, at about the same domain gain (README).
 *   <li>all: the three levels together: replay + EWC + LoRA + distillation.
 * </ul>
 */
public final class Methods {
  public static final List<String> ALL = List.of("naive", "replay", "staged", "ewc", "lora", "adapters", "distill", "replay+distill", "all");

  private Methods() {}

  /** What {@code method} does, from the config it runs with (after {@link #apply}), so the report states the real settings. */
  public static String describe(String method, RunConfig cfg) {
    return switch (method) {
      case "naive" -> "full fine-tuning on domain data only";
      case "replay" -> "general data replayed, " + replayText(cfg.data.replay);
      case "staged" -> "top 2 layers + head first, then all layers at LR/10";
      case "ewc" -> ewcText(cfg.retention.ewc);
      case "lora" -> loraText(cfg.lora) + "; base frozen";
      case "adapters" -> "bottleneck adapters after each MLP (hidden / " + cfg.adapters.reductionFactor + "); base frozen";
      case "distill" -> distillText(cfg.retention.distillation) + " mixed with CE";
      case "replay+distill" -> "full fine-tuning with general data replayed, " + replayText(cfg.data.replay) + "; "
          + distillText(cfg.retention.distillation);
      case "all" -> "replay + EWC + LoRA + distillation (data, training, architecture): " + replayText(cfg.data.replay) + "; "
          + ewcText(cfg.retention.ewc) + "; " + loraText(cfg.lora) + "; " + distillText(cfg.retention.distillation);
      default -> method;
    };
  }

  private static String replayText(RunConfig.Replay r) {
    return switch (r.schedule) {
      case LINEAR -> String.format(Locale.ROOT, "ratio %.0f%% -> %.0f%% across epochs", 100 * r.start, 100 * r.end);
      case CONSTANT -> String.format(Locale.ROOT, "ratio %.0f%%", 100 * r.ratio);
      case LIST -> "ratios " + r.ratios + " by epoch";
      default -> "no replay";
    };
  }

  private static String ewcText(RunConfig.Ewc e) {
    return String.format(Locale.ROOT, "EWC lambda %s (Fisher of the base on general data)", num(e.lambda));
  }

  private static String loraText(RunConfig.Lora l) {
    return "LoRA r=" + l.r + ", alpha=" + num(l.alpha) + " on " + String.join(", ", l.targetModules);
  }

  private static String distillText(RunConfig.Distill k) {
    return "distillation from the base model (T=" + num(k.temperature) + ", weight " + num(k.weight) + ", " + k.on + " rows)";
  }

  private static String num(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  /** Turns the user's config into the config of {@code method} (in place; pass a fresh copy). */
  public static void apply(String method, RunConfig cfg, RunConfig user) {
    // Start from naive: no protection at all.
    cfg.data.replay = new RunConfig.Replay();
    cfg.lora = null;
    cfg.adapters = null;
    cfg.retention = new RunConfig.Retention();
    cfg.training.stages = new ArrayList<>();
    cfg.training.trainable = null;
    cfg.eval.budget = null;
    double lr = cfg.training.lr;
    switch (method) {
      case "naive" -> { }
      case "replay" -> replay(cfg, user, 0.15, 0.30);
      case "staged" -> {
        RunConfig.Stage top = new RunConfig.Stage();
        top.name = "top+head";
        top.trainable = "top:2+head";
        top.lr = lr;
        RunConfig.Stage all = new RunConfig.Stage();
        all.name = "all";
        all.trainable = "all";
        all.lr = lr / 10;
        if (cfg.training.maxSteps != null) {
          // A run capped in steps: a third of them for the top, the rest for everything.
          top.steps = Math.max(1, cfg.training.maxSteps / 3);
          all.steps = Math.max(1, cfg.training.maxSteps - top.steps);
        } else {
          if (cfg.training.epochs < 2) {
            throw new IllegalArgumentException("compare: the staged method needs training.epochs >= 2 (one per stage) "
                + "or training.max_steps");
          }
          top.epochs = 1;
          all.epochs = cfg.training.epochs - 1;
        }
        cfg.training.stages = new ArrayList<>(List.of(top, all));
      }
      case "ewc" -> ewc(cfg, user);
      case "lora" -> lora(cfg, user, lr);
      case "adapters" -> {
        cfg.adapters = user.adapters != null ? user.adapters : new RunConfig.Adapters();
        cfg.training.lr = lr * 3;
      }
      case "distill" -> distill(cfg, user);
      case "replay+distill" -> {
        replay(cfg, user, 0.30, 0.50);
        distill(cfg, user);
      }
      case "all" -> {
        replay(cfg, user, 0.15, 0.30);
        ewc(cfg, user);
        lora(cfg, user, lr);
        distill(cfg, user);
      }
      default -> throw new IllegalArgumentException("compare: unknown method '" + method + "'; choose from " + ALL);
    }
  }

  /** The user's replay schedule, else linear from {@code start} to {@code end} across epochs. */
  private static void replay(RunConfig cfg, RunConfig user, double start, double end) {
    if (user.data.replay.schedule != RunConfig.ReplayKind.NONE) {
      cfg.data.replay = user.data.replay;
    } else {
      cfg.data.replay.schedule = RunConfig.ReplayKind.LINEAR;
      cfg.data.replay.start = start;
      cfg.data.replay.end = end;
    }
  }

  private static void ewc(RunConfig cfg, RunConfig user) {
    cfg.retention.ewc = user.retention.ewc != null ? user.retention.ewc : new RunConfig.Ewc();
  }

  private static void lora(RunConfig cfg, RunConfig user, double lr) {
    cfg.lora = user.lora != null ? user.lora : new RunConfig.Lora();
    cfg.training.lr = lr * 3;
  }

  private static void distill(RunConfig cfg, RunConfig user) {
    cfg.retention.distillation = user.retention.distillation != null ? user.retention.distillation : new RunConfig.Distill();
  }
}
