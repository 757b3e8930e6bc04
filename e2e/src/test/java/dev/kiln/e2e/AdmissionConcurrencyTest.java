package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AwsCli;
import dev.kiln.e2e.support.SignedHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.GetAccountSettingsResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;
import tools.jackson.databind.JsonNode;

/**
 * Account concurrency and reserved concurrency, end to end: Put/Get/DeleteFunctionConcurrency
 * through the aws CLI, the SDK and raw HTTP, GetAccountSettings, the minimum unreserved
 * concurrency, the two concurrency throttle Reasons, Event invokes while throttled, and slots
 * coming back however an invocation ends.
 *
 * <p>The server allows 10 concurrent executions (so 1 must stay unreserved) and scales fast (burst
 * 20, 20 per second), so only concurrency throttles here; {@link ThrottleRateTest} covers the
 * scaling-rate Reasons. Slow invocations hold slots: a test that needs a limit full fires one more
 * holder than the limit (exactly one of them must be throttled), lets them reach the server, probes
 * while they run, and compares the functions' own clocks afterwards (a bystander or an Event ran
 * before or after the holders, the account never ran more than its limit at once).
 */
class AdmissionConcurrencyTest extends AdmissionTestBase {
  private static final int LIMIT = 10;
  private static final int MIN_UNRESERVED = 1;
  /** Time for fired holders to reach the server before the test probes (they hold 5 s). */
  private static final long SETTLE_MS = 1500;
  private static final long HOLD_MS = 5000;

  /** Functions given a reservation in the running test; cleared after it. */
  private final List<String> reservedHere = new ArrayList<>();

  @Override
  protected List<String> serverArgs() {
    return List.of("--concurrency", String.valueOf(LIMIT), "--scaling-burst", "20", "--scaling-rate", "20");
  }

  @AfterEach
  void clearReservations() {
    for (String f : reservedHere) {
      try {
        deleteReserved(f);
      } catch (AwsServiceException e) {
        // Deleted by the test itself.
      }
    }
    reservedHere.clear();
  }

  private void reserve(String function, int reserved) {
    reservedHere.add(function);
    putReserved(function, reserved);
  }

  @Test
  void get_account_settings_reports_the_limit_and_what_reservations_leave_unreserved() {
    GetAccountSettingsResponse initial = lambda.getAccountSettings();
    assertThat(initial.accountLimit().concurrentExecutions()).isEqualTo(LIMIT);
    assertThat(initial.accountLimit().unreservedConcurrentExecutions()).isEqualTo(LIMIT);

    String a = deployAdmission("acct-a", 10);
    String b = deployAdmission("acct-b", 10);
    reserve(a, 3);
    assertThat(unreserved()).isEqualTo(7);
    reservedHere.add(b);
    JsonNode put =
        cli.lambda("put-function-concurrency", "--function-name", b, "--reserved-concurrent-executions", "2").json();
    assertThat(put.path("ReservedConcurrentExecutions").asInt()).isEqualTo(2);
    JsonNode settings = cli.lambda("get-account-settings").json();
    assertThat(settings.path("AccountLimit").path("ConcurrentExecutions").asInt()).isEqualTo(LIMIT);
    assertThat(settings.path("AccountLimit").path("UnreservedConcurrentExecutions").asInt()).isEqualTo(5);

    // Replacing a reservation counts only the new value.
    putReserved(a, 4);
    assertThat(unreserved()).isEqualTo(4);
    deleteReserved(b);
    assertThat(unreserved()).isEqualTo(6);
    // Deleting a function gives its reservation back.
    lambda.deleteFunction(r -> r.functionName(a));
    assertThat(unreserved()).isEqualTo(LIMIT);
    assertThat(lambda.getAccountSettings().accountLimit().concurrentExecutions()).isEqualTo(LIMIT);
  }

  @Test
  void put_get_and_delete_function_concurrency_through_the_cli_the_sdk_and_http() {
    String f = deployAdmission("reserve", 10);
    reservedHere.add(f);
    // Nothing reserved yet: GetFunctionConcurrency is empty, GetFunction has no Concurrency.
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(f)).reservedConcurrentExecutions()).isNull();
    assertThat(lambda.getFunction(b -> b.functionName(f)).concurrency()).isNull();
    SignedHttp.Response none = http.send("GET", "/2019-09-30/functions/" + f + "/concurrency", (byte[]) null);
    assertThat(none.status()).as("%s", none).isEqualTo(200);
    assertThat(none.json().has("ReservedConcurrentExecutions")).as("%s", none).isFalse();

    // CLI put and get.
    assertThat(
            cli.lambda("put-function-concurrency", "--function-name", f, "--reserved-concurrent-executions", "3")
                .json()
                .path("ReservedConcurrentExecutions")
                .asInt())
        .isEqualTo(3);
    assertThat(
            cli.lambda("get-function-concurrency", "--function-name", f)
                .json()
                .path("ReservedConcurrentExecutions")
                .asInt())
        .isEqualTo(3);
    assertThat(
            cli.lambda("get-function", "--function-name", f)
                .json()
                .path("Concurrency")
                .path("ReservedConcurrentExecutions")
                .asInt())
        .isEqualTo(3);
    assertThat(lambda.getFunction(b -> b.functionName(f)).concurrency().reservedConcurrentExecutions())
        .isEqualTo(3);

    // SDK put by full ARN and by partial ARN; raw HTTP on the paths the clients use.
    assertThat(
            lambda
                .putFunctionConcurrency(b -> b.functionName(arn(f)).reservedConcurrentExecutions(2))
                .reservedConcurrentExecutions())
        .isEqualTo(2);
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(partialArn(f))).reservedConcurrentExecutions())
        .isEqualTo(2);
    SignedHttp.Response put =
        http.send("PUT", "/2017-10-31/functions/" + f + "/concurrency", "{\"ReservedConcurrentExecutions\":1}");
    assertThat(put.status()).as("%s", put).isEqualTo(200);
    assertThat(put.json().path("ReservedConcurrentExecutions").asInt()).isEqualTo(1);
    SignedHttp.Response get = http.send("GET", "/2019-09-30/functions/" + f + "/concurrency", (byte[]) null);
    assertThat(get.status()).as("%s", get).isEqualTo(200);
    assertThat(get.json().path("ReservedConcurrentExecutions").asInt()).isEqualTo(1);
    assertThat(unreserved()).isEqualTo(LIMIT - 1);

    // Zero is a valid reservation (it throttles everything).
    putReserved(f, 0);
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(f)).reservedConcurrentExecutions()).isZero();
    assertThat(lambda.getFunction(b -> b.functionName(f)).concurrency().reservedConcurrentExecutions()).isZero();
    assertThat(unreserved()).isEqualTo(LIMIT);

    // Delete through the CLI, then raw HTTP (204, idempotent).
    cli.lambda("delete-function-concurrency", "--function-name", f).assertOk();
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(f)).reservedConcurrentExecutions()).isNull();
    assertThat(lambda.getFunction(b -> b.functionName(f)).concurrency()).isNull();
    SignedHttp.Response delete = http.send("DELETE", "/2017-10-31/functions/" + f + "/concurrency", (byte[]) null);
    assertThat(delete.status()).as("%s", delete).isEqualTo(204);
    assertThat(unreserved()).isEqualTo(LIMIT);

    // Unknown functions are 404 for all three.
    String missing = uniqueName("missing");
    expectError(404, "ResourceNotFoundException",
        () -> lambda.putFunctionConcurrency(b -> b.functionName(missing).reservedConcurrentExecutions(1)));
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunctionConcurrency(b -> b.functionName(missing)));
    expectError(404, "ResourceNotFoundException", () -> lambda.deleteFunctionConcurrency(b -> b.functionName(missing)));
    cli.lambda("get-function-concurrency", "--function-name", missing).assertError("ResourceNotFoundException");

    // A negative or missing value is refused (the CLI validates these itself, so raw HTTP).
    SignedHttp.Response negative =
        http.send("PUT", "/2017-10-31/functions/" + f + "/concurrency", "{\"ReservedConcurrentExecutions\":-1}");
    assertThat(negative.status()).as("%s", negative).isEqualTo(400);
    assertThat(negative.errorType()).as("%s", negative).isEqualTo("InvalidParameterValueException");
    SignedHttp.Response missingValue = http.send("PUT", "/2017-10-31/functions/" + f + "/concurrency", "{}");
    assertThat(missingValue.status()).as("%s", missingValue).isEqualTo(400);
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(f)).reservedConcurrentExecutions()).isNull();
  }

  @Test
  void a_reservation_may_not_take_the_minimum_unreserved_concurrency() {
    String a = deployAdmission("min-a", 10);
    String b = deployAdmission("min-b", 10);
    reservedHere.addAll(List.of(a, b));
    String message =
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            + "below its minimum value of ["
            + MIN_UNRESERVED
            + "].";
    AwsServiceException all =
        expectError(400, "InvalidParameterValueException",
            () -> lambda.putFunctionConcurrency(r -> r.functionName(a).reservedConcurrentExecutions(LIMIT)));
    assertThat(all.awsErrorDetails().errorMessage()).isEqualTo(message);
    assertThat(lambda.getFunctionConcurrency(r -> r.functionName(a)).reservedConcurrentExecutions()).isNull();

    // Everything but the minimum is fine; then nothing more, for any function.
    putReserved(a, LIMIT - MIN_UNRESERVED);
    assertThat(unreserved()).isEqualTo(MIN_UNRESERVED);
    AwsServiceException more =
        expectError(400, "InvalidParameterValueException",
            () -> lambda.putFunctionConcurrency(r -> r.functionName(b).reservedConcurrentExecutions(1)));
    assertThat(more.awsErrorDetails().errorMessage()).isEqualTo(message);
    AwsCli.Result cliMore =
        cli.lambda("put-function-concurrency", "--function-name", b, "--reserved-concurrent-executions", "1")
            .assertError("InvalidParameterValueException");
    assertThat(cliMore.stderr()).contains("below its minimum value of [" + MIN_UNRESERVED + "]");
    // A function's own reservation does not count against its new value.
    putReserved(a, LIMIT - MIN_UNRESERVED);
    // Zero never takes anything.
    putReserved(b, 0);
    putReserved(a, 5);
    putReserved(b, 4);
    assertThat(unreserved()).isEqualTo(MIN_UNRESERVED);
    expectError(400, "InvalidParameterValueException",
        () -> lambda.putFunctionConcurrency(r -> r.functionName(b).reservedConcurrentExecutions(5)));
    assertThat(lambda.getFunctionConcurrency(r -> r.functionName(b)).reservedConcurrentExecutions()).isEqualTo(4);
    assertThat(unreserved()).isEqualTo(MIN_UNRESERVED);
  }

  @Test
  void reserved_zero_throttles_every_synchronous_invoke_and_holds_events_until_it_is_lifted() {
    String f = deployAdmission("zero", 10);
    assertOk(call(new Call(f, newTag(), "ok", 0)));
    assertThat(lambda.publishVersion(b -> b.functionName(f)).version()).isEqualTo("1");
    reserve(f, 0);
    // The reservation covers every version and alias of the function.
    assertThrottled(call(new Call(f + ":1", newTag(), "ok", 0)), RESERVED_CONCURRENT, 1, 60);

    // SDK: TooManyRequestsException with the Reason and Retry-After.
    Outcome sdk = call(new Call(f, newTag(), "ok", 0));
    assertThrottled(sdk, RESERVED_CONCURRENT, 1, 60);
    // Raw HTTP: status, x-amzn-ErrorType, Retry-After, body.
    assertThrottleResponse(rawInvoke(f, "{}", Map.of()), RESERVED_CONCURRENT, 1, 60);
    // aws CLI.
    cli.lambda("invoke", "--function-name", f, "--payload", "{}", workDir.resolve("zero-out.json").toString())
        .assertError("TooManyRequestsException");
    // DryRun runs nothing, so it is not throttled.
    SignedHttp.Response dry = rawInvoke(f, "{}", Map.of("X-Amz-Invocation-Type", "DryRun"));
    assertThat(dry.status()).as("%s", dry).isEqualTo(204);

    // An Event is accepted, and runs only once the reservation is lifted.
    String tag = newTag();
    assertThat(invokeEvent(f, event(tag, "ok", 0))).isEqualTo(202);
    JsonNode cliEvent =
        cli.lambda("invoke", "--function-name", f, "--invocation-type", "Event", "--payload", event(newTag(), "ok", 0),
                workDir.resolve("zero-event.json").toString())
            .json();
    assertThat(cliEvent.path("StatusCode").asInt()).isEqualTo(202);
    sleep(2500);
    assertThat(loggedAtAll(f, tag)).as("the event ran while the reservation was 0").isFalse();
    long lifted = System.currentTimeMillis();
    deleteReserved(f);
    assertThat(loggedStart(f, tag)).as("the event ran after the reservation was lifted").isGreaterThanOrEqualTo(lifted);
    assertOk(call(new Call(f, newTag(), "ok", 0)));
  }

  @Test
  void invoke_with_response_stream_is_throttled_with_a_429_before_any_stream_starts() {
    String f = deployAdmission("zero-stream", 10);
    reserve(f, 0);
    // As on Lambda: the 429 TooManyRequestsException comes instead of the 200 event stream.
    SignedHttp.Response stream =
        http.send("POST", "/2021-11-15/functions/" + f + "/response-streaming-invocations", "{}", Map.of());
    assertThrottleResponse(stream, RESERVED_CONCURRENT, 1, 60);
  }

  @Test
  void a_full_reservation_throttles_its_function_only_and_events_wait_for_a_slot() {
    String f = deployAdmission("full-reserved", 10);
    String other = deployAdmission("bystander", 10);
    reserve(f, 2);
    assertThat(unreserved()).isEqualTo(LIMIT - 2);

    // Three at once for two reserved slots: exactly one is throttled (checked when they end).
    List<Future<Outcome>> holders = hold(calls(f, 3, "ok", HOLD_MS), SETTLE_MS);
    // While the two slots are taken: SDK, raw HTTP and CLI are throttled with the Reason.
    assertThrottled(call(new Call(f, newTag(), "ok", 0)), RESERVED_CONCURRENT, 1, 60);
    assertThrottleResponse(rawInvoke(f, "{}", Map.of()), RESERVED_CONCURRENT, 1, 60);
    TooManyRequestsException sdk =
        (TooManyRequestsException)
            expectError(429, "TooManyRequestsException",
                () -> lambda.invoke(b -> b.functionName(f).payload(SdkBytes.fromUtf8String("{}"))));
    assertThat(sdk.reason().toString()).isEqualTo(RESERVED_CONCURRENT);
    // Other functions are untouched.
    Outcome bystander = call(new Call(other, newTag(), "ok", 0));
    assertOk(bystander);
    // An Event is accepted now and runs when a slot is free.
    String tag = newTag();
    assertThat(invokeEvent(f, event(tag, "ok", 0))).isEqualTo(202);

    List<Outcome> held = join(holders);
    assertThat(held.stream().filter(Outcome::admitted)).as("%s", held).hasSize(2).allSatisfy(AdmissionTestBase::assertOk);
    assertThat(held.stream().filter(Outcome::throttled))
        .as("%s", held)
        .singleElement()
        .satisfies(o -> assertThrottled(o, RESERVED_CONCURRENT, 1, 60));
    long firstHolderEnd = held.stream().filter(Outcome::admitted).mapToLong(Outcome::fnEndMs).min().orElseThrow();
    assertThat(bystander.fnStartMs()).as("the bystander ran while the reservation was full").isLessThan(firstHolderEnd);
    assertThat(loggedStart(f, tag)).as("the event started after a holder ended").isGreaterThanOrEqualTo(firstHolderEnd);
    assertOk(call(new Call(f, newTag(), "ok", 0)));
  }

  @Test
  void a_full_unreserved_pool_throttles_unreserved_functions_but_never_a_reservation() {
    String reserved = deployAdmission("guaranteed", 10);
    String u1 = deployAdmission("pool-1", 10);
    String u2 = deployAdmission("pool-2", 10);
    String u3 = deployAdmission("pool-3", 10);
    reserve(reserved, 5);
    int pool = LIMIT - 5;
    assertThat(unreserved()).isEqualTo(pool);

    // One more than the pool, over two functions: exactly one is throttled.
    List<Call> hold = new ArrayList<>(calls(u1, 3, "ok", HOLD_MS));
    hold.addAll(calls(u2, pool - 2, "ok", HOLD_MS));
    List<Future<Outcome>> holders = hold(hold, SETTLE_MS);
    // While the pool is full, every unreserved function is throttled...
    assertThrottled(call(new Call(u3, newTag(), "ok", 0)), CONCURRENT, 1, 60);
    assertThrottled(call(new Call(u1, newTag(), "ok", 0)), CONCURRENT, 1, 60);
    assertThrottleResponse(rawInvoke(u2, "{}", Map.of()), CONCURRENT, 1, 60);
    // ...but the reserved function keeps all 5 of its slots.
    List<Outcome> guaranteed = parallel(calls(reserved, 5, "ok", 300));
    guaranteed.forEach(AdmissionTestBase::assertOk);
    assertThat(unreserved()).isEqualTo(pool);

    List<Outcome> held = join(holders);
    assertThat(held.stream().filter(Outcome::admitted)).as("%s", held).hasSize(pool).allSatisfy(AdmissionTestBase::assertOk);
    assertThat(held.stream().filter(Outcome::throttled))
        .as("%s", held)
        .singleElement()
        .satisfies(o -> assertThrottled(o, CONCURRENT, 1, 60));
    long firstHolderEnd = held.stream().filter(Outcome::admitted).mapToLong(Outcome::fnEndMs).min().orElseThrow();
    assertThat(guaranteed)
        .as("the reserved function ran while the pool was full")
        .allSatisfy(o -> assertThat(o.fnStartMs()).isLessThan(firstHolderEnd));
    assertOk(call(new Call(u3, newTag(), "ok", 0)));
  }

  @Test
  void the_account_limit_holds_while_a_reservation_is_removed_under_load() {
    String reserved = deployAdmission("shrinking", 10);
    String u = deployAdmission("pool-after", 10);
    reserve(reserved, 5);
    // The reserved function fills its 5 slots...
    List<Future<Outcome>> busy = hold(calls(reserved, 5, "ok", HOLD_MS), SETTLE_MS);
    // ...then its reservation goes back to the pool while those 5 still run.
    deleteReserved(reserved);
    assertThat(unreserved()).isEqualTo(LIMIT);
    // The account still has only LIMIT - 5 free slots: one more than that is throttled.
    List<Outcome> more = parallel(calls(u, LIMIT - 5 + 1, "ok", 1500));
    List<Outcome> first = join(busy);
    first.forEach(AdmissionTestBase::assertOk);
    List<Outcome> all = new ArrayList<>(first);
    all.addAll(more.stream().filter(Outcome::admitted).toList());
    assertThat(maxOverlap(all))
        .as("running at once by the functions' clocks: %s", all)
        .isLessThanOrEqualTo(LIMIT);
    assertThat(more.stream().filter(Outcome::admitted))
        .as("admitted while 5 of the account's %d slots were taken: %s", LIMIT, more)
        .hasSize(LIMIT - 5);
  }

  @Test
  void reservations_are_enforced_after_a_restart() {
    String zero = deployAdmission("restart-zero", 10);
    String two = deployAdmission("restart-two", 10);
    String other = deployAdmission("restart-pool", 10);
    reserve(zero, 0);
    reserve(two, 2);
    server.stop();
    server.restart();
    // The first call after the restart is an invoke: admission reads the reservations from the store.
    assertThrottled(call(new Call(zero, newTag(), "ok", 0)), RESERVED_CONCURRENT, 1, 60);
    List<Call> calls = new ArrayList<>(calls(two, 3, "ok", 2000));
    calls.addAll(calls(other, LIMIT - 2 + 1, "ok", 2000));
    List<Outcome> outcomes = parallel(calls);
    assertThat(outcomes.stream().filter(o -> o.call().function().equals(two) && o.admitted()))
        .as("%s", outcomes)
        .hasSize(2);
    assertThat(outcomes.stream().filter(o -> o.call().function().equals(other) && o.admitted()))
        .as("%s", outcomes)
        .hasSize(LIMIT - 2);
    assertThat(outcomes.stream().filter(Outcome::throttled).map(Outcome::reason))
        .as("%s", outcomes)
        .containsExactlyInAnyOrder(RESERVED_CONCURRENT, CONCURRENT);
    assertThat(unreserved()).isEqualTo(LIMIT - 2);
    assertThat(lambda.getFunctionConcurrency(b -> b.functionName(zero)).reservedConcurrentExecutions()).isZero();
  }

  @Test
  void slots_come_back_after_errors_timeouts_crashes_and_client_disconnects() throws Exception {
    String failing = deployAdmission("failing", 1);
    String slow1 = deployAdmission("release-1", 10);
    String slow2 = deployAdmission("release-2", 10);

    // Two rounds of 9 failing invocations: function errors, timeouts, crashes.
    for (int round = 0; round < 2; round++) {
      List<Call> bad = new ArrayList<>(calls(failing, 3, "fail", 50));
      bad.addAll(calls(failing, 3, "hang", 0));
      bad.addAll(calls(failing, 3, "crash", 50));
      for (Outcome o : parallel(bad)) {
        assertThat(o.status()).as("%s", o).isEqualTo(200);
        assertThat(o.functionError()).as("%s", o).isEqualTo("Unhandled");
        String expected =
            switch (o.call().action()) {
              case "fail" -> "Error";
              case "hang" -> "Sandbox.Timedout";
              default -> "Runtime.ExitError";
            };
        assertThat(o.errorType()).as("%s", o).isEqualTo(expected);
      }
    }

    // Callers that hang up while their invocation runs.
    HttpClient impatient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    List<String> abandoned = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String tag = newTag();
      abandoned.add(tag);
      HttpRequest request = signedInvoke(slow1, event(tag, "ok", 1500), Duration.ofMillis(400));
      try {
        impatient.send(request, HttpResponse.BodyHandlers.ofString());
        throw new AssertionError("the invoke answered before the client's 400 ms timeout");
      } catch (HttpTimeoutException expected) {
        // The client is gone; the function runs on.
      }
    }
    impatient.close();
    for (String tag : abandoned) {
      awaitLogEvents(slow1, "admission-end tag=" + tag);
    }
    // The node's own count: nothing runs, so no slot may be held.
    awaitNoSlotsHeld();
    assertThat(stats().path("unreservedLimit").asInt()).isEqualTo(LIMIT);

    // All 10 slots are free again: 10 slow invokes at once all run...
    List<Call> full = new ArrayList<>(calls(slow1, LIMIT / 2, "ok", 1500));
    full.addAll(calls(slow2, LIMIT - LIMIT / 2, "ok", 1500));
    parallel(full).forEach(AdmissionTestBase::assertOk);
    // ...and an 11th is one too many.
    List<Call> tooMany = new ArrayList<>(calls(slow1, LIMIT / 2, "ok", 2000));
    tooMany.addAll(calls(slow2, LIMIT - LIMIT / 2 + 1, "ok", 2000));
    List<Outcome> outcomes = parallel(tooMany);
    assertThat(outcomes.stream().filter(Outcome::admitted)).as("%s", outcomes).hasSize(LIMIT);
    assertThat(outcomes.stream().filter(Outcome::throttled))
        .as("%s", outcomes)
        .singleElement()
        .satisfies(o -> assertThrottled(o, CONCURRENT, 1, 60));
  }

  /** A signed Invoke as java.net.http sends it, with a client-side timeout. */
  private HttpRequest signedInvoke(String function, String payload, Duration timeout) {
    var body = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    var request =
        software.amazon.awssdk.http.SdkHttpRequest.builder()
            .method(software.amazon.awssdk.http.SdkHttpMethod.POST)
            .uri(URI.create(server.endpoint() + "/2015-03-31/functions/" + function + "/invocations"))
            .putHeader("Content-Type", "application/json")
            .build();
    var signed =
        software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.create()
            .sign(
                r ->
                    r.identity(
                            software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(
                                accessKey, secretKey))
                        .request(request)
                        .payload(software.amazon.awssdk.http.ContentStreamProvider.fromByteArray(body))
                        .putProperty(
                            software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.SERVICE_SIGNING_NAME,
                            "lambda")
                        .putProperty(
                            software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner.REGION_NAME,
                            REGION));
    HttpRequest.Builder out = HttpRequest.newBuilder(signed.request().getUri()).timeout(timeout);
    signed
        .request()
        .forEachHeader(
            (name, values) -> {
              String lower = name.toLowerCase(java.util.Locale.ROOT);
              if (!lower.equals("host") && !lower.equals("content-length")) {
                values.forEach(v -> out.header(name, v));
              }
            });
    return out.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
  }
}
