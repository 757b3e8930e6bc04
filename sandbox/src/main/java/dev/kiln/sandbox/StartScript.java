package dev.kiln.sandbox;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The shell text a sandbox's idle process runs at launch: {@code exec env -i NAME=value ... command}, every
 * word single-quoted, so the runtime gets exactly the given environment and nothing inherited.
 */
final class StartScript {
  private StartScript() {}

  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /**
   * @param preamble shell lines run first (e.g. {@code ulimit}), may be empty
   * @param translate applied to the command's words and the environment's values (identity in crun)
   */
  static String build(Launch launch, String preamble, UnaryOperator<String> translate) {
    return build(launch, preamble, translate, List.of());
  }

  /** @param prefix words run before {@code env}, which must end by exec-ing the words that follow them */
  static String build(Launch launch, String preamble, UnaryOperator<String> translate, List<String> prefix) {
    var sb = new StringBuilder(512);
    sb.append(preamble);
    for (String word : prefix) sb.append(quote(word)).append(' ');
    // Not exec: the shell stays as PID 1 and the runtime runs as its child, because the kernel
    // ignores signals a namespace's PID 1 sends itself (a runtime killing itself must die). The
    // shell's own stderr is closed so its job report ("Killed") does not land in the function's log.
    sb.append("/usr/bin/env -i --");
    Map<String, String> env = launch.environment();
    if (!env.containsKey("PATH")) sb.append(' ').append(quote("PATH=" + Launch.DEFAULT_PATH));
    env.forEach((k, v) -> sb.append(' ').append(quote(k + "=" + translate.apply(v))));
    List<String> command = launch.command();
    for (String word : command) sb.append(' ').append(quote(translate.apply(word)));
    sb.append(" &\nexec 2>/dev/null\nwait $!\nexit $?\n");
    return sb.toString();
  }
}
