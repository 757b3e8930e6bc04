package dev.kiln.control;

import java.util.Map;

/** CreateFunction after the HTTP layer has decoded it: the zip is raw bytes, not base64. */
public record CreateFunctionRequest(
    String functionName, ConfigurationChange configuration, byte[] zip, Map<String, String> tags, boolean publish) {}
