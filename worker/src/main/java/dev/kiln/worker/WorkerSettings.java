package dev.kiln.worker;

import java.time.Duration;

/**
 * How the worker runs environments.
 *
 * @param keepAlive how long an idle environment is kept before it is retired
 * @param freezeAfter how long an environment may sit idle before its processes are frozen
 * @param prewarmedSandboxes empty sandboxes kept ready so a cold start skips sandbox creation
 */
public record WorkerSettings(String region, Duration keepAlive, Duration freezeAfter, int prewarmedSandboxes) {}
