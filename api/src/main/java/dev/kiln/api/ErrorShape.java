package dev.kiln.api;

import dev.kiln.core.KilnException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON body of Lambda's error replies (the {@code x-amzn-ErrorType} header names the error in
 * both): the API's, and a function URL's.
 */
enum ErrorShape {
  /** {@code {"Type":"User"|"Service","message":...,"Message":...}}: the SDKs read either spelling. */
  API,
  /** {@code {"Message":...}}, as a function URL answers. */
  FUNCTION_URL;

  Map<String, Object> document(KilnException error) {
    var doc = new LinkedHashMap<String, Object>();
    if (this == API) {
      doc.put("Type", error.code().faultType());
      doc.put("message", error.getMessage());
    }
    doc.put("Message", error.getMessage());
    if (error.reason() != null) {
      doc.put("Reason", error.reason());
    }
    if (this == API && error.retryAfterSeconds() != null) {
      doc.put("retryAfterSeconds", error.retryAfterSeconds().toString());
    }
    return doc;
  }
}
