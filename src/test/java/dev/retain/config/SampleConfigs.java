package dev.retain.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small config classes that exercise every supported field shape. */
final class SampleConfigs {
  private SampleConfigs() {}

  public enum Optimizer {
    ADAM_W,
    SGD
  }

  public static class Run implements Validatable {
    @Doc("name of the run") @Required @Example("llama-domain-1")
    public String name;

    @Doc("random seed")
    public long seed = 1234;

    public Model model = new Model();
    public Training training = new Training();
    public Data data = new Data();

    @Doc("training stages, run in order")
    public List<Stage> stages = new ArrayList<>();

    @Doc("weight of each loss term") @Range(min = 0)
    public Map<String, Double> lossWeights = new LinkedHashMap<>(Map.of("ce", 1.0));

    public List<String> tags = List.of("default");

    @Doc("optional LoRA adapter; absent means full fine-tuning")
    public Lora lora;

    @Override
    public void validate(ConfigErrors errors) {
      if (training.maxSteps != null && training.warmupSteps >= training.maxSteps) {
        errors.add("training.warmup_steps", "must be below training.max_steps (" + training.maxSteps + ")");
      }
    }
  }

  public static class Model {
    @Doc("folder of the base model") @Required @MustExist @Example("models/llama")
    public Path path;

    public Optimizer optimizer = Optimizer.ADAM_W;
  }

  public static class Training {
    @Doc("peak learning rate") @Range(min = 0, minExclusive = true)
    public double learningRate = 3e-4;

    @Range(min = 1)
    public int epochs = 1;

    @Doc("stop after this many steps; absent = run all epochs") @Range(min = 1)
    public Integer maxSteps;

    @Range(min = 0)
    public int warmupSteps = 0;

    public boolean gradientCheckpointing = false;

    @Range(min = 0, max = 1)
    public List<Double> dropouts = List.of(0.1);

    public List<Integer> evalSteps = List.of(100, 200);
  }

  public static class Data implements Validatable {
    public Replay replay = new Replay();
    public Map<String, Source> sources = new LinkedHashMap<>();

    @Key("val_fraction")
    public double validationFraction = 0.05;

    @Override
    public void validate(ConfigErrors errors) {
      if (sources.containsKey("all")) {
        // an absolute path and a stand-alone message: both styles are accepted
        errors.add("data.sources.all", "the name 'all' is reserved; pick another");
      }
    }
  }

  public static class Replay {
    @Doc("share of general-domain data in each batch") @Range(min = 0, max = 1, maxExclusive = true)
    public double ratio = 0.25;
  }

  public static class Source {
    @Required @MustExist
    public Path path;

    @Range(min = 0, minExclusive = true)
    public double weight = 1.0;
  }

  public static class Stage implements Validatable {
    public String name = "stage";

    @Range(min = 1)
    public int steps = 100;

    public double lr = 1e-4;

    @Override
    public void validate(ConfigErrors errors) {
      if (lr <= 0) {
        errors.add("lr", "must be > 0");
      }
    }
  }

  public static class Lora {
    @Doc("adapter rank") @Range(min = 0, minExclusive = true)
    public int r = 8;

    public double alpha = 16;
  }

  /** The class whose generated docs are compared with exact text. */
  public static class Tiny {
    @Doc("peak learning rate") @Range(min = 0, minExclusive = true)
    public double lr = 3e-4;

    @Doc("where outputs go") @Required @Example("runs/a")
    public Path outDir;

    public Optimizer optimizer = Optimizer.SGD;

    public List<String> tags = List.of("x", "y");

    @Doc("data mixture")
    public Map<String, Source> sources = new LinkedHashMap<>();
  }

  /** Not a valid config class: a field type the binder cannot bind. */
  public static class Broken {
    public java.util.Set<String> names;
  }

  /** A default that breaks its own range: reported as such, without a line. */
  public static class BadDefault {
    @Range(min = 1)
    public int n = 0;

    public String other = "x";
  }
}
