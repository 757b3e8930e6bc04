package dev.kiln.store;

/** The tables of event-source mappings and the positions their pollers have reached, inside one {@link StoreTransaction}. */
public interface EventSourceMappingStore {}
