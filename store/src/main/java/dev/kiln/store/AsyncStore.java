package dev.kiln.store;

/** The tables of accepted asynchronous invocations (the durable event queue) and each function's event-invoke configuration, inside one {@link StoreTransaction}. */
public interface AsyncStore {}
