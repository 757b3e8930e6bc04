package dev.kiln.store;

/** The tables of cron and rate schedules and when each last fired, inside one {@link StoreTransaction}. */
public interface ScheduleStore {}
