package dev.kiln.store;

/** The tables of batch jobs over a data set and the checkpoint of every item, inside one {@link StoreTransaction}. */
public interface BatchStore {}
