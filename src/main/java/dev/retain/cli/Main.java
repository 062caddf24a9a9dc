package dev.retain.cli;

import dev.retain.tensor.Backend;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code retain} command: thin subcommands that parse, call the library and print. */
@Command(
    name = "retain",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Fine-tune LLaMA-family models on a new domain without forgetting what they knew,",
      "and measure both on every run."
    },
    subcommands = {
      TrainCommand.class,
      PretrainCommand.class,
      EvalCommand.class,
      CompareCommand.class,
      DemoCommand.class,
      LogitsCommand.class,
      GenerateCommand.class,
      TokenizerCommand.class,
      ImportanceCommand.class,
      ExportCommand.class,
      BenchCommand.class,
      PlanCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (used by tests without exiting the JVM). */
  public static int execute(String... args) {
    Backend.configure();
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(Errors::handle);
    return cl.execute(args);
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"retain " + (v == null ? "dev" : v)};
    }
  }
}
