package dev.kiln.runtimes.fn;

/** A POJO result; its null field must be left out of the JSON. */
public class Reply {
  private final String message;
  private final int count;
  private final String requestId;
  private final String nothing = null;

  public Reply(String message, int count, String requestId) {
    this.message = message;
    this.count = count;
    this.requestId = requestId;
  }

  public String getMessage() {
    return message;
  }

  public int getCount() {
    return count;
  }

  public String getRequestId() {
    return requestId;
  }

  public String getNothing() {
    return nothing;
  }
}
