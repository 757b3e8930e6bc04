package dev.kiln.core;

/** Lambda's quotas that Kiln enforces the same way. */
public final class Limits {
  private Limits() {}

  public static final int MIN_MEMORY_MB = 128;
  public static final int MAX_MEMORY_MB = 10_240;
  public static final int DEFAULT_MEMORY_MB = 128;
  public static final int MIN_TIMEOUT_S = 1;
  public static final int MAX_TIMEOUT_S = 900;
  public static final int DEFAULT_TIMEOUT_S = 3;
  public static final int MIN_EPHEMERAL_MB = 512;
  public static final int MAX_EPHEMERAL_MB = 10_240;
  public static final long MAX_ZIPPED_UPLOAD_BYTES = 50L * 1024 * 1024;
  public static final long MAX_UNZIPPED_BYTES = 250L * 1024 * 1024;
  public static final long MAX_TOTAL_CODE_BYTES = 75L * 1024 * 1024 * 1024;
  /** A CreateFunction body carries the zip base64-encoded, so the body may be a third larger. */
  public static final long MAX_REQUEST_BODY_BYTES = MAX_ZIPPED_UPLOAD_BYTES * 4 / 3 + 1024 * 1024;
  public static final int MAX_ENVIRONMENT_BYTES = 4 * 1024;
  public static final int MAX_DESCRIPTION_LENGTH = 256;
  public static final int MAX_TAGS = 50;
  public static final int MAX_LIST_ITEMS = 50;
  public static final int DEFAULT_ACCOUNT_CONCURRENCY = 1000;
}
