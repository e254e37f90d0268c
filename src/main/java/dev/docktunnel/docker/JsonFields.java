package dev.docktunnel.docker;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * Type-tolerant field access for engine JSON: a field that is absent, {@code null} or of an
 * unexpected type reads as "missing" instead of throwing, because engine versions differ in what
 * they omit.
 */
final class JsonFields {
  private JsonFields() {
  }

  static String string(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    return value instanceof String s ? s : null;
  }

  static String string(JsonObject json, String key, String fallback) {
    String value = string(json, key);
    return value == null ? fallback : value;
  }

  static JsonObject object(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    return value instanceof JsonObject o ? o : null;
  }

  static JsonArray array(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    return value instanceof JsonArray a ? a : null;
  }

  /** A number, or a string holding a decimal integer (the engine writes host ports as strings). */
  static Long integer(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    if (value instanceof Number n) {
      return n.longValue();
    }
    if (value instanceof String s && !s.isBlank()) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  static Boolean bool(JsonObject json, String key) {
    if (json == null) {
      return null;
    }
    Object value = json.getValue(key);
    return value instanceof Boolean b ? b : null;
  }

  /** A string-to-string map; non-string values are rendered as text, nulls dropped. Sorted. */
  static Map<String, String> stringMap(JsonObject json, String key) {
    Map<String, String> result = new TreeMap<>();
    JsonObject map = object(json, key);
    if (map != null) {
      for (Map.Entry<String, Object> e : map) {
        if (e.getValue() != null) {
          result.put(e.getKey(), String.valueOf(e.getValue()));
        }
      }
    }
    return result;
  }
}
