package dev.kiln.control;

/** What GetAccountSettings reports: the account's limits and what it uses of them. */
public record AccountSettings(
    long totalCodeSizeLimit,
    long codeSizeUnzippedLimit,
    long codeSizeZippedLimit,
    int concurrentExecutions,
    int unreservedConcurrentExecutions,
    long totalCodeSizeUsed,
    long functionCount) {}
