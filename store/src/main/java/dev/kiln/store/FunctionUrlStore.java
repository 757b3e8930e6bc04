package dev.kiln.store;

/** The tables of function URL configurations, inside one {@link StoreTransaction}. */
public interface FunctionUrlStore {}
