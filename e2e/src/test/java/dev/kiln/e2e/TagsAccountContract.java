package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.Zips;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.GetAccountSettingsResponse;
import tools.jackson.databind.JsonNode;

/** TagResource, UntagResource, ListTags and GetAccountSettings. */
abstract class TagsAccountContract extends KilnTestBase {

  @Test
  void cliTags() {
    String name = uniqueName("cli-tags");
    createFunction(name, Zips.nodeFunction());
    String arn = arn(name);
    cli.lambda("tag-resource", "--resource", arn, "--tags", "team=kiln,cost=42").assertOk();
    JsonNode tags = cli.lambda("list-tags", "--resource", arn).json().path("Tags");
    assertThat(tags.path("team").asString()).isEqualTo("kiln");
    assertThat(tags.path("cost").asString()).isEqualTo("42");
    assertThat(tags.size()).isEqualTo(2);

    cli.lambda("untag-resource", "--resource", arn, "--tag-keys", "cost").assertOk();
    JsonNode after = cli.lambda("list-tags", "--resource", arn).json().path("Tags");
    assertThat(after.size()).isEqualTo(1);
    assertThat(after.path("team").asString()).isEqualTo("kiln");

    cli.lambda("list-tags", "--resource", arn(uniqueName("nobody")))
        .assertError("ResourceNotFoundException");
  }

  @Test
  void sdkTags() {
    String name = uniqueName("sdk-tags");
    createFunction(name, Zips.nodeFunction(), b -> b.tags(Map.of("a", "1", "b", "2")));
    String arn = arn(name);
    assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEqualTo(Map.of("a", "1", "b", "2"));

    lambda.tagResource(b -> b.resource(arn).tags(Map.of("b", "two", "c", "3")));
    assertThat(lambda.listTags(b -> b.resource(arn)).tags())
        .isEqualTo(Map.of("a", "1", "b", "two", "c", "3"));

    // Empty values, spaces, the punctuation AWS tags allow, and non-ASCII letters round-trip.
    Map<String, String> odd =
        Map.of("empty", "", "team name", "kiln: v1.0/x+y=z@w_-", "ünïcode", "värde 日本");
    lambda.tagResource(b -> b.resource(arn).tags(odd));
    assertThat(lambda.listTags(b -> b.resource(arn)).tags()).containsAllEntriesOf(odd);
    lambda.untagResource(b -> b.resource(arn).tagKeys(odd.keySet()));

    lambda.untagResource(b -> b.resource(arn).tagKeys("a", "c", "not-there"));
    assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEqualTo(Map.of("b", "two"));
    assertThat(lambda.getFunction(b -> b.functionName(name)).tags()).isEqualTo(Map.of("b", "two"));

    lambda.untagResource(b -> b.resource(arn).tagKeys("b"));
    assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEmpty();

    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.tagResource(b -> b.resource(arn(uniqueName("nobody"))).tags(Map.of("x", "y"))));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.listTags(b -> b.resource(arn(uniqueName("nobody")))));

    // Tags go with the function.
    lambda.tagResource(b -> b.resource(arn).tags(Map.of("gone", "soon")));
    lambda.deleteFunction(b -> b.functionName(name));
    createFunction(name, Zips.nodeFunction());
    assertThat(lambda.listTags(b -> b.resource(arn)).tags()).isEmpty();
  }

  @Test
  void cliAccountSettings() {
    JsonNode settings = cli.lambda("get-account-settings").json();
    JsonNode limit = settings.path("AccountLimit");
    assertThat(limit.path("TotalCodeSize").asLong()).isEqualTo(80_530_636_800L);
    assertThat(limit.path("CodeSizeUnzipped").asLong()).isEqualTo(262_144_000L);
    assertThat(limit.path("CodeSizeZipped").asLong()).isEqualTo(52_428_800L);
    assertThat(limit.path("ConcurrentExecutions").asInt()).isEqualTo(1000);
    assertThat(limit.path("UnreservedConcurrentExecutions").asInt()).isPositive();
    assertThat(settings.path("AccountUsage").path("FunctionCount").isNumber()).isTrue();
    assertThat(settings.path("AccountUsage").path("TotalCodeSize").isNumber()).isTrue();
  }

  @Test
  void sdkAccountUsageFollowsFunctions() {
    GetAccountSettingsResponse before = lambda.getAccountSettings();
    long count0 = before.accountUsage().functionCount();
    long size0 = before.accountUsage().totalCodeSize();

    String a = uniqueName("usage-a");
    byte[] zipA = Zips.nodeFunction();
    createFunction(a, zipA);
    GetAccountSettingsResponse afterA = lambda.getAccountSettings();
    assertThat(afterA.accountUsage().functionCount()).isEqualTo(count0 + 1);
    assertThat(afterA.accountUsage().totalCodeSize()).isEqualTo(size0 + zipA.length);

    String b = uniqueName("usage-b");
    byte[] zipB = Zips.zipOfZeros("data.bin", 1 << 20);
    createFunction(b, zipB);
    GetAccountSettingsResponse afterB = lambda.getAccountSettings();
    assertThat(afterB.accountUsage().functionCount()).isEqualTo(count0 + 2);
    assertThat(afterB.accountUsage().totalCodeSize()).isEqualTo(size0 + zipA.length + zipB.length);

    lambda.deleteFunction(r -> r.functionName(a));
    lambda.deleteFunction(r -> r.functionName(b));
    GetAccountSettingsResponse after = lambda.getAccountSettings();
    assertThat(after.accountUsage().functionCount()).isEqualTo(count0);
    assertThat(after.accountUsage().totalCodeSize()).isEqualTo(size0);
    assertThat(after.accountLimit().concurrentExecutions()).isEqualTo(1000);
  }
}
