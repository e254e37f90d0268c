package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One answer to "why is the server not idle?": a source of activity, where it is (forward,
 * container, local port, each null where the source has none) and since when. Part of the
 * {@link ActivityState} fact; schema in docs/events.md.
 *
 * @param open true: a connection or stream open now, which counts as activity while it is open;
 *     false: a moment of activity (a request, bytes, a connection opened or closed)
 * @param detail one line for a person, e.g. {@code 2 connections open, oldest from /127.0.0.1:53412}
 * @param at for an open source, when it opened; for a moment (a request, bytes), when it happened last
 * @param ageMs how long ago {@code at} was when the reason was read
 */
public record ActivityReason(Source source, boolean open, String forwardId, String containerId, Integer localPort, String detail,
    Instant at, long ageMs) {

  /** Where the activity came from. */
  public enum Source implements FactFields.WireName {
    /** A Docker API request through the local Docker socket. */
    DOCKER_REQUEST("docker-request"),
    /** A long-lived Docker response: logs -f, exec, attach, events, wait. */
    DOCKER_STREAM("docker-stream"),
    /** The local Docker socket's connections and their bytes. */
    DOCKER_CONNECTION("docker-connection"),
    /** Bytes through a forward. */
    FORWARD_BYTES("forward-bytes"),
    /** A connection through a forward. */
    FORWARD_CONNECTION("forward-connection");

    private final String text;

    Source(String text) {
      this.text = text;
    }

    @Override
    public String text() {
      return text;
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("source", source.text())
        .put("open", open)
        .put("forwardId", forwardId)
        .put("containerId", containerId)
        .put("localPort", localPort)
        .put("detail", detail)
        .put("at", at.toString())
        .put("ageMs", ageMs);
  }

  /**
   * @param fact how the enclosing fact is named in errors, e.g. {@code activity.state reasons[2]}
   * @throws IllegalArgumentException naming the field that is missing or wrong
   */
  public static ActivityReason fromJson(String fact, JsonObject json) {
    FactFields f = FactFields.of(fact, json);
    Integer localPort = json.getValue("localPort") == null ? null : f.port("localPort");
    return new ActivityReason(f.wire("source", Source.class), f.bool("open"), f.optionalString("forwardId"),
        f.optionalString("containerId"), localPort, f.string("detail"), f.instant("at"), f.count("ageMs"));
  }
}
