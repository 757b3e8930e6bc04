package dev.kiln.api.json;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A request body read as Lambda reads it: a JSON object whose members are checked for type as they
 * are read. A member of the wrong type is an InvalidRequestContentException naming the member,
 * never a 500. Members the operation does not read are ignored, as Lambda ignores them.
 */
public final class JsonBody {
  private final ObjectNode node;
  private final String path;

  private JsonBody(ObjectNode node, String path) {
    this.node = node;
    this.path = path;
  }

  public static JsonBody parse(byte[] body) {
    if (body == null || body.length == 0) {
      return new JsonBody(Json.MAPPER.createObjectNode(), "");
    }
    JsonNode tree;
    try {
      tree = Json.MAPPER.readTree(body);
    } catch (JacksonException e) {
      throw badContent("Could not parse request body into json: " + e.getOriginalMessage());
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      return new JsonBody(Json.MAPPER.createObjectNode(), "");
    }
    if (!(tree instanceof ObjectNode object)) {
      throw badContent("Could not parse request body into json: the body must be a JSON object.");
    }
    return new JsonBody(object, "");
  }

  public boolean has(String name) {
    var value = node.get(name);
    return value != null && !value.isNull();
  }

  public String string(String name) {
    var value = member(name);
    if (value == null) {
      return null;
    }
    if (!value.isString()) {
      throw typeError(name, "a string", value);
    }
    return value.asString();
  }

  public Integer integer(String name) {
    var value = member(name);
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw typeError(name, "an integer", value);
    }
    return value.intValue();
  }

  public Boolean bool(String name) {
    var value = member(name);
    if (value == null) {
      return null;
    }
    if (!value.isBoolean()) {
      throw typeError(name, "a boolean", value);
    }
    return value.booleanValue();
  }

  public boolean bool(String name, boolean fallback) {
    var value = bool(name);
    return value == null ? fallback : value;
  }

  /** A blob member: base64 text on the wire, bytes here. */
  public byte[] blob(String name) {
    var text = string(name);
    if (text == null) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw badContent("Could not parse request body into json: " + qualified(name) + " is not valid base64.");
    }
  }

  public JsonBody object(String name) {
    var value = member(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof ObjectNode object)) {
      throw typeError(name, "an object", value);
    }
    return new JsonBody(object, qualified(name) + ".");
  }

  public Map<String, String> stringMap(String name) {
    var object = object(name);
    if (object == null) {
      return null;
    }
    var result = new LinkedHashMap<String, String>();
    for (var entry : object.node.properties()) {
      var value = entry.getValue();
      if (value.isNull()) {
        result.put(entry.getKey(), "");
      } else if (value.isString() || value.isNumber() || value.isBoolean()) {
        result.put(entry.getKey(), value.asString());
      } else {
        throw typeError(name + "." + entry.getKey(), "a string", value);
      }
    }
    return result;
  }

  public Map<String, Double> doubleMap(String name) {
    var object = object(name);
    if (object == null) {
      return null;
    }
    var result = new LinkedHashMap<String, Double>();
    for (var entry : object.node.properties()) {
      if (!entry.getValue().isNumber()) {
        throw typeError(name + "." + entry.getKey(), "a number", entry.getValue());
      }
      result.put(entry.getKey(), entry.getValue().doubleValue());
    }
    return result;
  }

  public List<String> stringList(String name) {
    var value = member(name);
    if (value == null) {
      return null;
    }
    if (!value.isArray()) {
      throw typeError(name, "a list", value);
    }
    var result = new ArrayList<String>();
    for (var element : value) {
      if (!element.isString()) {
        throw typeError(name + "[]", "a string", element);
      }
      result.add(element.asString());
    }
    return result;
  }

  private JsonNode member(String name) {
    var value = node.get(name);
    return value == null || value.isNull() ? null : value;
  }

  private String qualified(String name) {
    return path + name;
  }

  private KilnException typeError(String name, String expected, JsonNode actual) {
    return badContent("Could not parse request body into json: " + qualified(name) + " must be " + expected
        + ", not " + actual.getNodeType().name().toLowerCase());
  }

  private static KilnException badContent(String message) {
    return new KilnException(ErrorCode.InvalidRequestContentException, message);
  }
}
