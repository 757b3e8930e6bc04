package dev.kiln.admission;

/**
 * Limits of one node.
 *
 * @param accountConcurrency concurrent executions an account may have (Lambda: 1000)
 * @param minimumUnreserved concurrency that reservations may never take from the account (Lambda: 100)
 * @param functionBurst new environments a function may start at once
 * @param functionRefillPerSecond new environments per second a function regains (Lambda: 1000 per 10 s)
 * @param accountBurst new environments an account may start at once, across its functions
 * @param accountRefillPerSecond new environments per second an account regains
 */
public record AdmissionSettings(
    int accountConcurrency, int minimumUnreserved, int functionBurst, double functionRefillPerSecond,
    int accountBurst, double accountRefillPerSecond) {

  /**
   * Lambda keeps 100 of 1000 unreserved and lets a function add 1000 environments per 10 s; one
   * machine holds far fewer environments, so the defaults (burst 50, 10 per second per function,
   * twice that per account) are scaled down and configurable.
   */
  public static AdmissionSettings of(int accountConcurrency, int functionBurst, double functionRate) {
    return new AdmissionSettings(accountConcurrency, Math.min(100, accountConcurrency / 10), functionBurst,
        functionRate, functionBurst * 2, functionRate * 2);
  }
}
