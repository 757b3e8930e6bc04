package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Accounts;
import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.KilnCli;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.SignedHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Learned system call profiles (issue 11, "Narrowest OS surface"): with {@code KILN_SECCOMP_PROFILE=learn} Kiln
 * traces a function's training run and shows the calls through {@code GET /kiln/v1/functions/{name}/seccomp-profile};
 * with {@code enforce} a call outside them kills the environment and fails the invocation with
 * {@code Runtime.SyscallDenied} naming the call, and the next invocation gets a new environment.
 */
class LearnedSeccompProfileTest extends InvokeTestBase {
  static final String OTHER_ACCOUNT = "210987654321";

  /** Ordinary work by default; a call it never made while learning when the event asks for one. */
  static final String PYTHON = """
      import json, os, socket

      def handler(event, context):
          extra = event.get("extra")
          if extra == "uname":
              os.uname()
          elif extra == "socketpair":
              socket.socketpair()
          with open("/tmp/work.txt", "w") as f:
              f.write("file")
          status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
          return {"file": open("/tmp/work.txt").read(), "seccomp": status["Seccomp"].strip()}
      """;

  static final String NODE = """
      const fs = require('node:fs');
      const os = require('node:os');
      exports.handler = async (event) => {
        if (event.extra === 'getpriority') os.getPriority();
        fs.writeFileSync('/tmp/work.txt', 'file');
        return { file: fs.readFileSync('/tmp/work.txt', 'utf8') };
      };
      """;

  @BeforeAll
  void requireCrun() {
    if (!server.output().contains("sandboxes: crun")) {
      String message = "The server does not run crun sandboxes, so system calls cannot be learned here.";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(message + "\nCI=true: failing instead of skipping.");
      Assumptions.abort(message);
    }
  }

  private JsonNode profile(SignedHttp client, String name) {
    return client.send("GET", "/kiln/v1/functions/" + name + "/seccomp-profile", (byte[]) null).json();
  }

  private static List<String> calls(JsonNode profile) {
    var calls = new ArrayList<String>();
    profile.path("Syscalls").forEach(c -> calls.add(c.asString()));
    return calls;
  }

  /** Learns with five ordinary invocations, then switches the function to enforce through the aws CLI. */
  private List<String> learnThenEnforce(String name) {
    JsonNode before = profile(http, name);
    assertThat(before.path("Mode").asString()).isEqualTo("learn");
    assertThat(before.path("Learned").asBoolean()).as("%s", before).isFalse();
    for (int i = 0; i < 5; i++) invoke(name, "{}").ok();
    JsonNode learned = profile(http, name);
    assertThat(learned.path("Learned").asBoolean()).as("%s", learned).isTrue();
    cli.lambda("update-function-configuration", "--function-name", name, "--environment",
        "Variables={KILN_SECCOMP_PROFILE=enforce}").assertOk();
    awaitUpdated(name);
    assertThat(profile(http, name).path("Mode").asString()).isEqualTo("enforce");
    return calls(learned);
  }

  @Test
  void pythonLearnsItsCallsAndIsKilledNamingACallOutsideThem() throws Exception {
    String name = deploy("learn-py", "python3.12", "lambda_function.handler",
        FunctionZip.create().file("lambda_function.py", PYTHON).bytes(),
        b -> b.environment(e -> e.variables(Map.of("KILN_SECCOMP_PROFILE", "learn"))));
    List<String> learned = learnThenEnforce(name);
    assertThat(learned).as("Python's start and work").contains("execve", "read", "write", "openat", "mmap",
        "socket", "connect").doesNotContain("uname", "socketpair", "ptrace");

    JsonNode ok = invoke(name, "{}").ok();
    assertThat(ok.path("file").asString()).isEqualTo("file");
    assertThat(ok.path("seccomp").asString()).isEqualTo("2");

    KilnCli.Run printed = new KilnCli(server.endpoint(), accessKey, secretKey, workDir).run("seccomp-profile", name);
    assertThat(printed.exitCode()).as("%s", printed).isZero();
    assertThat(printed.stdout()).contains("mode enforce, " + learned.size() + " calls learned", "\nopenat\n")
        .doesNotContain("uname");

    for (String call : List.of("uname", "socketpair")) {
      Invocation denied = cliInvoke(name, "{\"extra\":\"" + call + "\"}", "--cli-binary-format", "raw-in-base64-out");
      JsonNode error = denied.unhandled("Runtime.SyscallDenied");
      assertThat(error.path("errorMessage").asString()).as("%s", error)
          .contains("system call " + call + " is not in the function's learned profile");
      assertThat(invoke(name, "{}").ok().path("file").asString()).as("a new environment after the kill")
          .isEqualTo("file");
    }

    // The profile is a file of Kiln's, readable by root only, and goes with its function.
    Path file;
    try (var files = Files.walk(server.dataDir().resolve("seccomp-profiles"))) {
      file = files.filter(f -> f.getFileName().toString().equals(name)).findFirst().orElseThrow();
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
    lambda.deleteFunction(b -> b.functionName(name));
    assertThat(file).doesNotExist();
  }

  @Test
  void nodeLearnsItsCallsToo() {
    String name = deploy("learn-node", "nodejs22.x", "index.handler", FunctionZip.create().file("index.js", NODE).bytes(),
        b -> b.environment(e -> e.variables(Map.of("KILN_SECCOMP_PROFILE", "learn"))));
    List<String> learned = learnThenEnforce(name);
    assertThat(learned).contains("execve", "read", "write", "epoll_pwait", "futex").doesNotContain("getpriority");
    assertThat(invoke(name, "{}").ok().path("file").asString()).isEqualTo("file");
    JsonNode error = invoke(name, "{\"extra\":\"getpriority\"}").unhandled("Runtime.SyscallDenied");
    assertThat(error.path("errorMessage").asString()).contains("system call getpriority");
    assertThat(invoke(name, "{}").ok().path("file").asString()).isEqualTo("file");
  }

  @Test
  void enforcingBeforeLearningFailsClearlyAndBadValuesAreRefused() {
    String name = deploy("learn-none", "python3.12", "lambda_function.handler",
        FunctionZip.create().file("lambda_function.py", PYTHON).bytes(),
        b -> b.environment(e -> e.variables(Map.of("KILN_SECCOMP_PROFILE", "enforce"))));
    JsonNode error = invoke(name, "{}").unhandled("Runtime.SyscallProfileMissing");
    assertThat(error.path("errorMessage").asString()).contains("KILN_SECCOMP_PROFILE=learn");

    var refused = Sdk.expectError(400, "InvalidParameterValueException", () -> lambda.updateFunctionConfiguration(
        b -> b.functionName(name).environment(e -> e.variables(Map.of("KILN_SECCOMP_PROFILE", "strict")))));
    assertThat(refused.getMessage()).contains("KILN_SECCOMP_PROFILE");
  }

  @Test
  void anotherAccountCannotReadTheProfile() {
    String name = deploy("learn-private", "python3.12", "lambda_function.handler",
        FunctionZip.create().file("lambda_function.py", PYTHON).bytes(),
        b -> b.environment(e -> e.variables(Map.of("KILN_SECCOMP_PROFILE", "learn"))));
    invoke(name, "{}").ok();
    var other = Accounts.addCredential(server.dataDir(), OTHER_ACCOUNT);
    var otherHttp = new SignedHttp(server.endpoint(), other.accessKeyId(), other.secretAccessKey());
    SignedHttp.Response r = otherHttp.send("GET", "/kiln/v1/functions/" + name + "/seccomp-profile", (byte[]) null);
    assertThat(r.status()).as("%s", r).isEqualTo(404);
    assertThat(r.errorType()).isEqualTo("ResourceNotFoundException");
  }
}
