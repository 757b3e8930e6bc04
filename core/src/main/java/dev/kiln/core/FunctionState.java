package dev.kiln.core;

/** Lambda's function {@code State}: a new function is Pending until its code is ready to run. */
public enum FunctionState {
  Pending,
  Active,
  Inactive,
  Failed
}
