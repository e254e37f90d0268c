package dev.docktunnel.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code docktunnel.forward.status} fact: one forward as its owner, the forward verticle,
 * knows it now. Also the items of the {@code docktunnel.forwards.list} reply. Schema in
 * docs/events.md.
 */
public record ForwardStatus(
    String id,
    String containerId,
    String containerName,
    String protocol,
    int publishedPort,
    String remoteHost,
    int remotePort,
    int localPort,
    int requestedLocalPort,
    List<String> bindAddresses,
    Status status,
    String reason,
    String sessionId,
    Instant createdAt,
    Instant updatedAt,
    int openConnections,
    long connectionsTotal,
    long connectionsFailed,
    long bytesIn,
    long bytesOut) implements Facts.Fact {

  /** A forward's lifecycle states, by their wire names. */
  public enum Status implements FactFields.WireName {
    /** Bound locally; the remote port is not yet proven (see the reason). */
    PENDING,
    /** The remote port accepted a probe channel. */
    ACTIVE,
    /** The local port is taken; retried. */
    CONFLICT,
    /** Cannot be forwarded as asked (UDP, a bad label). */
    REJECTED,
    /** Removed: the container stopped or went away, or docktunnel is stopping. */
    STOPPED;

    @Override
    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ForwardStatus {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(status, "status");
    bindAddresses = List.copyOf(bindAddresses);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("containerId", containerId)
        .put("containerName", containerName)
        .put("protocol", protocol)
        .put("publishedPort", publishedPort)
        .put("remoteHost", remoteHost)
        .put("remotePort", remotePort)
        .put("localPort", localPort)
        .put("requestedLocalPort", requestedLocalPort)
        .put("bindAddresses", new JsonArray(bindAddresses))
        .put("status", status.text())
        .put("reason", reason)
        .put("sessionId", sessionId)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString())
        .put("openConnections", openConnections)
        .put("connectionsTotal", connectionsTotal)
        .put("connectionsFailed", connectionsFailed)
        .put("bytesIn", bytesIn)
        .put("bytesOut", bytesOut);
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ForwardStatus fromJson(JsonObject json) {
    FactFields f = FactFields.of("forward.status", json);
    return new ForwardStatus(
        f.string("id"),
        f.string("containerId"),
        f.string("containerName"),
        f.string("protocol"),
        f.port("publishedPort"),
        f.string("remoteHost"),
        f.portOrZero("remotePort"),
        f.portOrZero("localPort"),
        f.portOrZero("requestedLocalPort"),
        f.strings("bindAddresses"),
        f.wire("status", Status.class),
        f.optionalString("reason"),
        f.optionalString("sessionId"),
        f.instant("createdAt"),
        f.instant("updatedAt"),
        (int) f.count("openConnections"),
        f.count("connectionsTotal"),
        f.count("connectionsFailed"),
        f.count("bytesIn"),
        f.count("bytesOut"));
  }
}
