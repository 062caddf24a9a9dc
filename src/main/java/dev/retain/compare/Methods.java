package dev.retain.compare;

import dev.retain.train.RunConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 *   <li>all: the three levels together: replay + EWC + LoRA + distillation.
 * </ul>
 */
public final class Methods {
  public static final List<String> ALL = List.of("naive", "replay", "staged", "ewc", "lora", "adapters", "distill", "all");

  private Methods() {}

  /** One-line descriptions for the report. */
  public static Map<String, String> descriptions() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("naive", "full fine-tuning on domain data only");
    d.put("replay", "general data replayed, ratio 15% -> 30% across epochs");
    d.put("staged", "top 2 layers + head first, then all layers at LR/10");
    d.put("ewc", "elastic weight consolidation (Fisher of the base on general data)");
    d.put("lora", "LoRA r=8, alpha=32 on q_proj, v_proj; base frozen");
    d.put("adapters", "bottleneck adapters after each MLP; base frozen");
    d.put("distill", "distillation from the base model (T=2) mixed with CE");
    d.put("all", "replay + EWC + LoRA + distillation (data, training, architecture)");
    return d;
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
      case "replay" -> replay(cfg, user);
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
      case "all" -> {
        replay(cfg, user);
        ewc(cfg, user);
        lora(cfg, user, lr);
        distill(cfg, user);
      }
      default -> throw new IllegalArgumentException("compare: unknown method '" + method + "'; choose from " + ALL);
    }
  }

  private static void replay(RunConfig cfg, RunConfig user) {
    if (user.data.replay.schedule != RunConfig.ReplayKind.NONE) {
      cfg.data.replay = user.data.replay;
    } else {
      cfg.data.replay.schedule = RunConfig.ReplayKind.LINEAR;
      cfg.data.replay.start = 0.15;
      cfg.data.replay.end = 0.30;
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
