package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * One fact about the SSH session, as published on {@code Addresses.SSH_STATE}:
 * {@code {"state", "host", "reason", "at", "attempt"}} plus {@code "fingerprint"} when a host key
 * was refused.
 *
 * @param state the session state
 * @param host the host as the user gave it ({@code --host})
 * @param reason why the session is in this state, for humans; never contains secrets
 * @param at when the state was entered
 * @param attempt the connection attempt this fact is about (1-based within the current outage;
 *     the successful attempt's number for {@code connected})
 * @param fingerprint the refused host key's {@code SHA256:...} fingerprint, or null
 */
public record SessionState(State state, String host, String reason, Instant at, int attempt, String fingerprint)
    implements Facts.Fact {

  public SessionState {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(at, "at");
    reason = reason == null ? "" : reason;
  }

  /** The session states of the design; only {@code failed} is terminal. */
  public enum State {
    /** Trying to reach the host for the first time. */
    CONNECTING("connecting"),
    /** The host answered but accepted none of our keys; retries, since a key may appear. */
    AUTH_REQUIRED("auth_required"),
    /** Authenticated; {@code SessionProvider.current()} returns the session. */
    CONNECTED("connected"),
    /** The session was lost; retrying with exponential backoff and jitter. */
    RECONNECTING("reconnecting"),
    /** Given up: refused host key, or no progress for the progress timeout. */
    FAILED("failed"),
    /**
     * No attempts: the lifecycle stopped the server (or is starting it, or has not said yet); the
     * session comes back once it runs.
     */
    SUSPENDED("suspended");

    private final String text;

    State(String text) {
      this.text = text;
    }

    /** The name used on the bus. */
    public String text() {
      return text;
    }

    /** Parses the bus name; null when unknown. */
    public static State parse(String text) {
      for (State s : values()) {
        if (s.text.equals(text)) {
          return s;
        }
      }
      return null;
    }
  }

  /** The fact as published. */
  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("state", state.text())
        .put("host", host)
        .put("reason", reason)
        .put("at", at.toString())
        .put("attempt", attempt);
    if (fingerprint != null) {
      json.put("fingerprint", fingerprint);
    }
    return json;
  }

  /**
   * Reads a published fact.
   *
   * @throws IllegalArgumentException naming the field when the JSON is not a session state fact
   */
  public static SessionState fromJson(JsonObject json) {
    State state = State.parse(json.getString("state"));
    if (state == null) {
      throw new IllegalArgumentException("SSH state fact has unknown state '" + json.getValue("state") + "'");
    }
    String host = json.getString("host");
    if (host == null) {
      throw new IllegalArgumentException("SSH state fact has no host");
    }
    Instant at;
    try {
      at = Instant.parse(json.getString("at"));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("SSH state fact has a bad 'at': " + json.getValue("at"), e);
    }
    return new SessionState(state, host, json.getString("reason"), at,
        json.getInteger("attempt", 0), json.getString("fingerprint"));
  }
}
