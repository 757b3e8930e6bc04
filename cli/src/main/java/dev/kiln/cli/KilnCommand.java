package dev.kiln.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kiln} command line. */
@Command(
    name = "kiln",
    mixinStandardHelpOptions = true,
    version = "kiln 0.1.0",
    description = "Kiln: run functions on demand, behind the AWS Lambda APIs.",
    subcommands = {UpCommand.class, LogsCommand.class, SchedulesCommand.class, BatchCommand.class,
        WarmCommand.class, SeccompProfileCommand.class})
public final class KilnCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new KilnCommand()).execute(args));
  }
}
