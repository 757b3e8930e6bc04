package dev.kiln.control;

import java.util.List;

/** UpdateFunctionCode: new code, optionally published at once, optionally guarded by RevisionId. */
public record UpdateCodeRequest(byte[] zip, List<String> architectures, boolean publish, String revisionId) {}
