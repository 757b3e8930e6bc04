package dev.kiln.api;

/**
 * What a function may put in the head of an HTTP/1.1 response (RFC 9110 and 9112), checked before
 * a byte of the response is written: a status line and header lines the client reads exactly as
 * the function meant them, so no result can split a header, start a second response or leave the
 * connection out of step.
 */
final class ResponseHeadSyntax {
  private ResponseHeadSyntax() {}

  /**
   * Final statuses only: a 1xx is an interim response that a final one must follow, so sending one
   * as the answer would leave the client waiting for the real response (101 even switches protocols).
   */
  static boolean isFinalStatus(int status) {
    return status >= 200 && status <= 599;
  }

  /** Statuses whose response never has content (RFC 9110 15.3.5, 15.3.6, 15.4.5). */
  static boolean forbidsBody(int status) {
    return status == 204 || status == 205 || status == 304;
  }

  /** A field name: a non-empty token (letters, digits and {@code !#$%&'*+-.^_`|~}). */
  static boolean isToken(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean tchar = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!tchar) {
        return false;
      }
    }
    return true;
  }

  /**
   * The value as sent, without the blanks around it (which are not part of a field value), or null
   * when it holds a character that cannot be sent as it is: a control character (CR and LF would
   * start a new header line) or a character outside ASCII, which the server cannot write unchanged.
   */
  static String fieldValue(String value) {
    var trimmed = stripBlanks(value);
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (c != '\t' && (c < ' ' || c > '~')) {
        return null;
      }
    }
    return trimmed;
  }

  private static String stripBlanks(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && isBlank(value.charAt(start))) {
      start++;
    }
    while (end > start && isBlank(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(start, end);
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
