package dev.kiln.control;

import dev.kiln.core.FunctionVersion;
import java.util.Map;

/**
 * What GetFunction returns: the configuration of the version a reference resolves to, the function's
 * tags, the qualifier the caller used (an alias name or version), if any, and its reserved
 * concurrency (null when none).
 */
public record FunctionDetails(
    FunctionVersion configuration, Map<String, String> tags, String qualifier, Integer reservedConcurrency) {}
