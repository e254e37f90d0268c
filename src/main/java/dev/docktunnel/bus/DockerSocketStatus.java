package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code docktunnel.docker.socket} fact: the local Docker socket and its counters, published
 * when it starts or stops listening and once a second while the counters change. Schema in
 * docs/events.md.
 *
 * @param path the socket file ({@code <state-dir>/<host-id>/docker.sock})
 * @param listening whether clients can connect now
 * @param reason why it does not listen, or null
 * @param openConnections Docker API connections open now
 * @param requestsTotal requests seen since the start
 * @param openStreams long-lived responses open now (logs -f, exec, attach, events, wait)
 * @param startHoldTimeouts container starts whose answer was passed on before the forwards were up
 * @param bytesIn bytes from the engine to the clients
 * @param bytesOut bytes from the clients to the engine
 */
public record DockerSocketStatus(String path, boolean listening, String reason, int openConnections,
    long connectionsTotal, long connectionsFailed, long requestsTotal, int openStreams, long startHoldTimeouts,
    long bytesIn, long bytesOut, Instant at) implements Facts.Fact {

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("path", path)
        .put("listening", listening)
        .put("reason", reason)
        .put("openConnections", openConnections)
        .put("connectionsTotal", connectionsTotal)
        .put("connectionsFailed", connectionsFailed)
        .put("requestsTotal", requestsTotal)
        .put("openStreams", openStreams)
        .put("startHoldTimeouts", startHoldTimeouts)
        .put("bytesIn", bytesIn)
        .put("bytesOut", bytesOut)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static DockerSocketStatus fromJson(JsonObject json) {
    FactFields f = FactFields.of("docker.socket", json);
    return new DockerSocketStatus(f.string("path"), f.bool("listening"), f.optionalString("reason"),
        (int) f.count("openConnections"), f.count("connectionsTotal"), f.count("connectionsFailed"),
        f.count("requestsTotal"), (int) f.count("openStreams"), f.count("startHoldTimeouts"), f.count("bytesIn"),
        f.count("bytesOut"), f.instant("at"));
  }
}
