package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.JsonBody;
import dev.kiln.control.AliasChange;
import dev.kiln.control.ConfigurationChange;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.CreateFunctionRequest;
import dev.kiln.control.UpdateCodeRequest;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.NetworkPolicy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/** The Lambda control-plane operations, each reading its request members and shaping its reply. */
public final class ControlPlaneRoutes {
  private static final String FUNCTIONS = "/2015-03-31/functions";
  private static final String FUNCTION = FUNCTIONS + "/{FunctionName}";
  private static final String TAGS = "/2017-03-31/tags/{ARN}";

  private final ControlPlane control;
  private final LambdaShapes shapes;
  private final CodeLinks codeLinks;
  private final int accountConcurrency;
  /** Told (account, function) when a whole function is deleted, so its reservation is released. */
  private final BiConsumer<String, String> onFunctionDeleted;

  ControlPlaneRoutes(ControlPlane control, CodeLinks codeLinks, int accountConcurrency,
      BiConsumer<String, String> onFunctionDeleted) {
    this.onFunctionDeleted = onFunctionDeleted;
    this.control = control;
    this.shapes = new LambdaShapes(control.region());
    this.codeLinks = codeLinks;
    this.accountConcurrency = accountConcurrency;
  }

  void register(Router router) {
    router
        .add("POST", FUNCTIONS, this::createFunction)
        .add("GET", FUNCTIONS, this::listFunctions)
        .add("GET", FUNCTION, this::getFunction)
        .add("DELETE", FUNCTION, this::deleteFunction)
        .add("GET", FUNCTION + "/configuration", this::getConfiguration)
        .add("PUT", FUNCTION + "/configuration", this::updateConfiguration)
        .add("PUT", FUNCTION + "/code", this::updateCode)
        .add("POST", FUNCTION + "/versions", this::publishVersion)
        .add("GET", FUNCTION + "/versions", this::listVersions)
        .add("POST", FUNCTION + "/aliases", this::createAlias)
        .add("GET", FUNCTION + "/aliases", this::listAliases)
        .add("GET", FUNCTION + "/aliases/{Name}", this::getAlias)
        .add("PUT", FUNCTION + "/aliases/{Name}", this::updateAlias)
        .add("DELETE", FUNCTION + "/aliases/{Name}", this::deleteAlias)
        .add("POST", TAGS, this::tagResource)
        .add("GET", TAGS, this::listTags)
        .add("DELETE", TAGS, this::untagResource)
        .add("GET", "/2016-08-19/account-settings", this::accountSettings)
        .addUnauthenticated("GET", "/kiln/code/{Account}/{Package}", this::downloadCode);
  }

  private ApiReply createFunction(ApiCall call) {
    var body = call.json();
    var code = body.object("Code");
    if (code == null) {
      throw KilnException.invalid("1 validation error detected: Value null at 'code' failed to satisfy constraint: "
          + "Member must not be null");
    }
    var packageType = body.string("PackageType");
    if (packageType != null && !packageType.equals("Zip")) {
      throw KilnException.invalid("PackageType " + packageType + " is not supported by Kiln: upload a .zip package.");
    }
    var zip = zipOf(code);
    var request = new CreateFunctionRequest(body.string("FunctionName"), configuration(body), zip,
        body.stringMap("Tags"), body.bool("Publish", false));
    var created = control.createFunction(call.account(), request);
    return ApiReply.json(201, shapes.configuration(created, null));
  }

  private ApiReply listFunctions(ApiCall call) {
    boolean all = call.queryParam("FunctionVersion").map("ALL"::equals).orElse(false);
    var page = control.listFunctions(call.account(), call.queryParam("Marker").orElse(null),
        call.intQueryParam("MaxItems"), all);
    var items = page.items().stream().map(v -> shapes.configuration(v, null)).toList();
    return ApiReply.ok(LambdaShapes.page("Functions", items, page.nextMarker()));
  }

  private ApiReply getFunction(ApiCall call) {
    var details = control.getFunction(call.account(), ref(call));
    var config = details.configuration();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Configuration", shapes.configuration(config, details.qualifier()));
    doc.put("Code", Map.of("RepositoryType", "S3",
        "Location", codeLinks.link(call.baseUrl(), call.account(), config.code().sha256Hex())));
    if (!details.tags().isEmpty()) {
      doc.put("Tags", details.tags());
    }
    if (details.reservedConcurrency() != null) {
      doc.put("Concurrency", Map.of("ReservedConcurrentExecutions", details.reservedConcurrency()));
    }
    return ApiReply.ok(doc);
  }

  private ApiReply deleteFunction(ApiCall call) {
    var ref = ref(call);
    control.deleteFunction(call.account(), ref);
    if (ref.qualifier().isEmpty()) {
      onFunctionDeleted.accept(call.account(), ref.name());
    }
    return ApiReply.noContent();
  }

  private ApiReply getConfiguration(ApiCall call) {
    var fref = ref(call);
    return ApiReply.ok(shapes.configuration(control.getConfiguration(call.account(), fref), fref.qualifier().orElse(null)));
  }

  private ApiReply updateConfiguration(ApiCall call) {
    var body = call.json();
    var updated = control.updateFunctionConfiguration(call.account(), ref(call), configuration(body),
        body.string("RevisionId"));
    return ApiReply.ok(shapes.configuration(updated, null));
  }

  private ApiReply updateCode(ApiCall call) {
    var body = call.json();
    var request = new UpdateCodeRequest(zipOf(body), body.stringList("Architectures"), body.bool("Publish", false),
        body.string("RevisionId"));
    return ApiReply.ok(shapes.configuration(control.updateFunctionCode(call.account(), ref(call), request), null));
  }

  private ApiReply publishVersion(ApiCall call) {
    var body = call.json();
    var published = control.publishVersion(call.account(), ref(call), body.string("CodeSha256"),
        body.string("Description"), body.string("RevisionId"));
    return ApiReply.json(201, shapes.configuration(published, null));
  }

  private ApiReply listVersions(ApiCall call) {
    var page = control.listVersions(call.account(), ref(call), call.queryParam("Marker").orElse(null),
        call.intQueryParam("MaxItems"));
    var items = page.items().stream().map(v -> shapes.configuration(v, null)).toList();
    return ApiReply.ok(LambdaShapes.page("Versions", items, page.nextMarker()));
  }

  private ApiReply createAlias(ApiCall call) {
    var body = call.json();
    var alias = control.createAlias(call.account(), ref(call), body.string("Name"), aliasChange(body));
    return ApiReply.json(201, shapes.alias(alias));
  }

  private ApiReply getAlias(ApiCall call) {
    return ApiReply.ok(shapes.alias(control.getAlias(call.account(), ref(call), call.path("Name"))));
  }

  private ApiReply updateAlias(ApiCall call) {
    var alias = control.updateAlias(call.account(), ref(call), call.path("Name"), aliasChange(call.json()));
    return ApiReply.ok(shapes.alias(alias));
  }

  private ApiReply deleteAlias(ApiCall call) {
    control.deleteAlias(call.account(), ref(call), call.path("Name"));
    return ApiReply.noContent();
  }

  private ApiReply listAliases(ApiCall call) {
    var page = control.listAliases(call.account(), ref(call), call.queryParam("FunctionVersion").orElse(null),
        call.queryParam("Marker").orElse(null), call.intQueryParam("MaxItems"));
    var items = page.items().stream().map(shapes::alias).toList();
    return ApiReply.ok(LambdaShapes.page("Aliases", items, page.nextMarker()));
  }

  private ApiReply tagResource(ApiCall call) {
    control.tagResource(call.account(), call.path("ARN"), call.json().stringMap("Tags"));
    return ApiReply.noContent();
  }

  private ApiReply listTags(ApiCall call) {
    return ApiReply.ok(Map.of("Tags", control.listTags(call.account(), call.path("ARN"))));
  }

  private ApiReply untagResource(ApiCall call) {
    var keys = call.queryParams("tagKeys");
    if (keys.isEmpty()) {
      throw KilnException.invalid("1 validation error detected: Value null at 'tagKeys' failed to satisfy "
          + "constraint: Member must not be null");
    }
    control.untagResource(call.account(), call.path("ARN"), keys);
    return ApiReply.noContent();
  }

  private ApiReply accountSettings(ApiCall call) {
    return ApiReply.ok(LambdaShapes.accountSettings(control.accountSettings(call.account(), accountConcurrency)));
  }

  private ApiReply downloadCode(ApiCall call) {
    var account = call.path("Account");
    var file = call.path("Package");
    var sha = file.endsWith(".zip") ? file.substring(0, file.length() - 4) : file;
    var signature = call.queryParam("signature").orElse("");
    var expires = call.queryParam("expires").orElse("");
    if (!codeLinks.valid(account, sha, expires, signature)) {
      throw new KilnException(ErrorCode.AccessDeniedException,
          "This code link is invalid or has expired. Call GetFunction for a fresh Code.Location.");
    }
    var in = control.openCode(sha)
        .orElseThrow(() -> KilnException.notFound("Code package not found: " + sha));
    return new ApiReply(200, Map.of(), new ApiReply.Body.Stream("application/zip", in));
  }

  private static FunctionRef ref(ApiCall call) {
    return FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
  }

  private static byte[] zipOf(JsonBody code) {
    if (code.has("S3Bucket") || code.has("S3Key") || code.has("ImageUri")) {
      throw KilnException.invalid("Kiln keeps code itself: upload the package as ZipFile instead of S3Bucket/S3Key "
          + "or ImageUri.");
    }
    var zip = code.blob("ZipFile");
    if (zip == null) {
      throw KilnException.invalid("Please provide a source for function code: ZipFile.");
    }
    return zip;
  }

  private static ConfigurationChange configuration(JsonBody body) {
    refuseVpc(body.object("VpcConfig"));
    var environment = body.object("Environment");
    var storage = body.object("EphemeralStorage");
    // DeadLetterConfig {} (no TargetArn) removes the dead-letter queue, as on Lambda.
    var deadLetter = body.object("DeadLetterConfig");
    return new ConfigurationChange(body.string("Runtime"), body.string("Handler"), body.string("Role"),
        body.string("Description"), body.integer("MemorySize"), body.integer("Timeout"),
        storage == null ? null : storage.integer("Size"),
        environment == null ? null : orEmpty(environment.stringMap("Variables")), body.stringList("Architectures"),
        deadLetter == null ? null : java.util.Objects.requireNonNullElse(deadLetter.string("TargetArn"), ""));
  }

  /**
   * A function's network is Kiln's own policy, not a VPC: subnets and security groups are refused rather than
   * ignored. An empty VpcConfig (what clients send to detach a VPC) asks for nothing and is accepted.
   */
  private static void refuseVpc(JsonBody vpc) {
    if (vpc == null) {
      return;
    }
    var subnets = vpc.stringList("SubnetIds");
    var groups = vpc.stringList("SecurityGroupIds");
    if ((subnets != null && !subnets.isEmpty()) || (groups != null && !groups.isEmpty())) {
      throw KilnException.invalid("VpcConfig is not supported by Kiln: a function's network is set with the "
          + "environment variable " + NetworkPolicy.VARIABLE + " (none, internet, or a list of CIDRs and address:port "
          + "entries, e.g. " + NetworkPolicy.VARIABLE + "=10.0.0.0/16,127.0.0.1:5432); remove VpcConfig.");
    }
  }

  private static AliasChange aliasChange(JsonBody body) {
    var routing = body.object("RoutingConfig");
    Map<String, Double> weights = null;
    if (routing != null) {
      weights = routing.doubleMap("AdditionalVersionWeights");
      if (weights == null) {
        weights = Map.of();
      }
    }
    return new AliasChange(body.string("FunctionVersion"), body.string("Description"), weights,
        body.string("RevisionId"));
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
