package dev.retain.tensor;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place where the tensor engine (DJL + libtorch) is started.
 *
 * <p>retain must run on machines with no network: libtorch comes from the {@code pytorch-native-cpu}
 * jar on the classpath and the tokenizers native library from its own jar. Before the engine class is
 * touched we switch DJL to offline mode (a missing native jar then fails at once instead of trying to
 * download), turn off DJL's usage telemetry and pin the thread counts. Properties that the user set on
 * the command line win over these defaults.
 */
public final class Backend {
  private static volatile Engine engine;

  private Backend() {}

  /** Sets the offline and threading properties; safe to call more than once. */
  public static void configure() {
    setDefault("ai.djl.offline", "true");
    setDefault("DJL_OFFLINE", "true");
    setDefault("OPT_OUT_TRACKING", "true");
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    setDefault("ai.djl.pytorch.num_threads", Integer.toString(threads));
    setDefault("ai.djl.pytorch.num_interop_threads", "1");
    setDefault("ai.djl.default_engine", "PyTorch");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** The PyTorch engine, started once. Throws with a clear message when libtorch cannot be loaded. */
  public static Engine engine() {
    Engine e = engine;
    if (e == null) {
      synchronized (Backend.class) {
        if (engine == null) {
          configure();
          try {
            engine = Engine.getEngine("PyTorch");
          } catch (RuntimeException | UnsatisfiedLinkError ex) {
            throw new IllegalStateException(
                "could not start libtorch through DJL (offline mode). The jar "
                    + "ai.djl.pytorch:pytorch-native-cpu:2.7.1:linux-x86_64 must be on the classpath; "
                    + "run ./retain (which builds target/lib) or 'mvn package'. Cause: " + ex,
                ex);
          }
        }
        e = engine;
      }
    }
    return e;
  }

  /** A new root manager on the engine's default device. */
  public static NDManager newManager() {
    return engine().newBaseManager();
  }

  /** Seeds libtorch's generator (dropout, random init done through the engine). */
  public static void seed(int seed) {
    engine().setRandomSeed(seed);
  }
}
