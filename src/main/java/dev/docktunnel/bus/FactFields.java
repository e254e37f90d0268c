package dev.docktunnel.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Strict readers for fact JSON: a missing field or one of the wrong type throws an
 * {@link IllegalArgumentException} naming the fact and the field, so a consumer logs one clear
 * line instead of acting on a half-read fact.
 */
public final class FactFields {
  private final String fact;
  private final JsonObject json;

  private FactFields(String fact, JsonObject json) {
    this.fact = fact;
    this.json = json;
  }

  /** Reads {@code json} as the fact named {@code fact} (used in messages, e.g. "forward.status"). */
  public static FactFields of(String fact, JsonObject json) {
    if (json == null) {
      throw new IllegalArgumentException(fact + " fact is not a JSON object");
    }
    return new FactFields(fact, json);
  }

  public String string(String key) {
    Object value = json.getValue(key);
    if (!(value instanceof String s)) {
      throw bad(key, value, "a string");
    }
    return s;
  }

  public String optionalString(String key) {
    Object value = json.getValue(key);
    if (value != null && !(value instanceof String)) {
      throw bad(key, value, "a string or null");
    }
    return (String) value;
  }

  public long count(String key) {
    Object value = json.getValue(key);
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
      throw bad(key, value, "a whole number, 0 or more");
    }
    return ((Number) value).longValue();
  }

  /** A count that older writers may leave out: {@code fallback} then. */
  public long count(String key, long fallback) {
    return json.getValue(key) == null ? fallback : count(key);
  }

  public boolean bool(String key) {
    Object value = json.getValue(key);
    if (!(value instanceof Boolean b)) {
      throw bad(key, value, "true or false");
    }
    return b;
  }

  public int port(String key) {
    long value = count(key);
    if (value < 1 || value > 65535) {
      throw bad(key, value, "a port 1-65535");
    }
    return (int) value;
  }

  /** A port, or 0 where the fact has none yet (a rejected forward binds nothing). */
  public int portOrZero(String key) {
    long value = count(key);
    if (value > 65535) {
      throw bad(key, value, "a port 0-65535");
    }
    return (int) value;
  }

  public Instant instant(String key) {
    String text = string(key);
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw bad(key, text, "an ISO-8601 UTC time");
    }
  }

  /** An instant, or null where the field is null or missing. */
  public Instant optionalInstant(String key) {
    return json.getValue(key) == null ? null : instant(key);
  }

  public List<String> strings(String key) {
    Object value = json.getValue(key);
    if (!(value instanceof JsonArray array)) {
      throw bad(key, value, "an array of strings");
    }
    List<String> out = new ArrayList<>(array.size());
    for (Object item : array) {
      if (!(item instanceof String s)) {
        throw bad(key, value, "an array of strings");
      }
      out.add(s);
    }
    return out;
  }

  /** One of {@code values}, by its wire name. */
  public <E extends Enum<E> & WireName> E wire(String key, Class<E> type) {
    String text = string(key);
    for (E e : type.getEnumConstants()) {
      if (e.text().equals(text)) {
        return e;
      }
    }
    throw bad(key, text, "one of " + Arrays.stream(type.getEnumConstants()).map(WireName::text).toList());
  }

  /** An enum whose constants have a wire name. */
  public interface WireName {
    String text();
  }

  private IllegalArgumentException bad(String key, Object value, String expected) {
    String shown = value == null ? "missing" : "'" + abbreviate(String.valueOf(value)) + "'";
    return new IllegalArgumentException(fact + " fact: " + key + " is " + shown + ", expected " + expected);
  }

  private static String abbreviate(String text) {
    return text.length() > 40 ? text.substring(0, 40) + "..." : text;
  }
}
