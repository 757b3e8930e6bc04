package dev.kiln.api;

import dev.kiln.control.AccountSettings;
import dev.kiln.core.Alias;
import dev.kiln.core.Arns;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.core.Region;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Kiln's records rendered as the JSON documents Lambda returns, member for member. */
final class LambdaShapes {
  /** Lambda's LastModified: millisecond precision and a +0000 offset, not ISO's Z. */
  static final DateTimeFormatter LAST_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  private final Region region;

  LambdaShapes(Region region) {
    this.region = region;
  }

  /** FunctionConfiguration; {@code qualifier} is what the caller named (alias or version), if anything. */
  Map<String, Object> configuration(FunctionVersion v, String qualifier) {
    var arnQualifier = qualifier != null ? qualifier : v.isLatest() ? null : v.version();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionName", v.functionName());
    doc.put("FunctionArn", arnQualifier == null ? Arns.function(region, v.account(), v.functionName())
        : Arns.function(region, v.account(), v.functionName(), arnQualifier));
    doc.put("Runtime", v.runtime());
    doc.put("Role", v.role());
    doc.put("Handler", v.handler());
    doc.put("CodeSize", v.code().size());
    doc.put("Description", v.description());
    doc.put("Timeout", v.timeout());
    doc.put("MemorySize", v.memorySize());
    doc.put("LastModified", LAST_MODIFIED.format(v.lastModified()));
    doc.put("CodeSha256", v.code().sha256Base64());
    doc.put("Version", v.version());
    if (!v.environment().isEmpty()) {
      doc.put("Environment", Map.of("Variables", v.environment()));
    }
    if (v.deadLetterTargetArn() != null) {
      doc.put("DeadLetterConfig", Map.of("TargetArn", v.deadLetterTargetArn()));
    }
    doc.put("TracingConfig", Map.of("Mode", "PassThrough"));
    doc.put("RevisionId", v.revisionId());
    doc.put("State", v.state().name());
    if (v.state() == FunctionState.Pending) {
      doc.put("StateReason", "The function is being created.");
      doc.put("StateReasonCode", "Creating");
    }
    doc.put("LastUpdateStatus", v.lastUpdateStatus().name());
    if (v.lastUpdateStatus() == LastUpdateStatus.InProgress) {
      doc.put("LastUpdateStatusReason", "The function is being updated.");
      doc.put("LastUpdateStatusReasonCode", "Updating");
    }
    doc.put("PackageType", "Zip");
    doc.put("Architectures", v.architectures());
    doc.put("EphemeralStorage", Map.of("Size", v.ephemeralStorageSize()));
    doc.put("SnapStart", Map.of("ApplyOn", "None", "OptimizationStatus", "Off"));
    doc.put("LoggingConfig", Map.of("LogFormat", "Text", "LogGroup", "/aws/lambda/" + v.functionName()));
    return doc;
  }

  Map<String, Object> alias(Alias a) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("AliasArn", Arns.function(region, a.account(), a.functionName(), a.name()));
    doc.put("Name", a.name());
    doc.put("FunctionVersion", a.functionVersion());
    doc.put("Description", a.description());
    if (!a.additionalWeights().isEmpty()) {
      doc.put("RoutingConfig", Map.of("AdditionalVersionWeights", a.additionalWeights()));
    }
    doc.put("RevisionId", a.revisionId());
    return doc;
  }

  static Map<String, Object> accountSettings(AccountSettings s) {
    return Map.of(
        "AccountLimit", Map.of(
            "TotalCodeSize", s.totalCodeSizeLimit(),
            "CodeSizeUnzipped", s.codeSizeUnzippedLimit(),
            "CodeSizeZipped", s.codeSizeZippedLimit(),
            "ConcurrentExecutions", s.concurrentExecutions(),
            "UnreservedConcurrentExecutions", s.unreservedConcurrentExecutions()),
        "AccountUsage", Map.of(
            "TotalCodeSize", s.totalCodeSizeUsed(),
            "FunctionCount", s.functionCount()));
  }

  /** A list document with Lambda's NextMarker member present only when there is a next page. */
  static Map<String, Object> page(String member, List<?> items, String nextMarker) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put(member, items);
    if (nextMarker != null) {
      doc.put("NextMarker", nextMarker);
    }
    return doc;
  }
}
