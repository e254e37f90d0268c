package dev.docktunnel.http;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.SessionState;
import dev.docktunnel.state.HostState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /health/ready} checks, one procedure per concern, each asking the owner over
 * the bus:
 *
 * <ul>
 *   <li>{@code ssh}: the session is {@code connected} (asked of the state writer,
 *       {@code docktunnel.status});
 *   <li>{@code engine}: the watcher's last sync succeeded and its event stream is live
 *       ({@code docktunnel.containers.list}'s {@code synced});
 *   <li>{@code forwards}: no forward is in {@code conflict} (its local port reaches another
 *       process, not the container). {@code pending} ones (bound, the container's port not
 *       answering yet: usually the app still starting, which no restart of docktunnel fixes) and
 *       {@code rejected} ones (asked for what cannot be forwarded, e.g. UDP) are listed with their
 *       reasons but do not make it down.
 * </ul>
 *
 * A query without an answer within its timeout makes its procedure down, naming the address.
 * The verdicts are pure functions of the replies ({@link #ssh}, {@link #engine}, {@link #forwards}).
 */
public final class ReadinessChecks {
  /** Each procedure's timeout; the bus query inside it gives up a little earlier, with its own words. */
  static final long PROCEDURE_TIMEOUT_MS = 2_000;
  static final long QUERY_TIMEOUT_MS = 1_500;

  private ReadinessChecks() {
  }

  /** The three procedures, registered on a new {@link HealthChecks}. */
  public static HealthChecks create(Vertx vertx) {
    return HealthChecks.create(vertx)
        .register("ssh", PROCEDURE_TIMEOUT_MS, p -> ask(vertx, Addresses.STATUS).map(ReadinessChecks::ssh)
            .otherwise(ReadinessChecks::unanswered).onComplete(r -> p.complete(r.result())))
        .register("engine", PROCEDURE_TIMEOUT_MS, p -> ask(vertx, Addresses.CONTAINERS_LIST).map(ReadinessChecks::engine)
            .otherwise(ReadinessChecks::unanswered).onComplete(r -> p.complete(r.result())))
        .register("forwards", PROCEDURE_TIMEOUT_MS, p -> ask(vertx, Addresses.FORWARDS_LIST)
            .map(ReadinessChecks::forwards).otherwise(ReadinessChecks::unanswered).onComplete(r -> p.complete(r.result())));
  }

  private static Future<JsonObject> ask(Vertx vertx, String address) {
    return vertx.eventBus().<JsonObject>request(address, new JsonObject(),
        new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS)).map(reply -> reply.body());
  }

  private static Status unanswered(Throwable error) {
    return Status.KO(new JsonObject().put("reason", "no answer: " + error.getMessage()));
  }

  /** Up when the status document's session state is {@code connected}. */
  static Status ssh(JsonObject statusDocument) {
    HostState.Ssh ssh;
    try {
      ssh = HostState.fromJson(statusDocument).ssh();
    } catch (IllegalArgumentException e) {
      return Status.KO(new JsonObject().put("reason", "unreadable status: " + e.getMessage()));
    }
    SessionState.State state = SessionState.State.parse(ssh.state());
    JsonObject data = new JsonObject().put("state", ssh.state()).put("since", ssh.since().toString());
    if (state == SessionState.State.CONNECTED) {
      return Status.OK(data);
    }
    String reason = ssh.reason() == null || ssh.reason().isBlank() ? "the SSH session is " + ssh.state()
        : "the SSH session is " + ssh.state() + ": " + ssh.reason();
    return Status.KO(data.put("reason", reason));
  }

  /** Up when the watcher's list reply says it is synced. */
  static Status engine(JsonObject listReply) {
    boolean synced = Boolean.TRUE.equals(listReply.getValue("synced"));
    JsonObject data = new JsonObject().put("engineVersion", listReply.getString("engineVersion"))
        .put("containers", listReply.getJsonArray("containers", new JsonArray()).size());
    if (synced) {
      return Status.OK(data);
    }
    String why = listReply.getValue("unsyncedReason") instanceof String s ? s : "not synced";
    return Status.KO(data.put("reason", "container picture not synced with the engine: " + why));
  }

  /** Down when any forward is in conflict; pending and rejected ones are listed with their reasons. */
  static Status forwards(JsonObject listReply) {
    List<ForwardStatus> forwards = new ArrayList<>();
    try {
      for (Object item : listReply.getJsonArray("forwards", new JsonArray())) {
        forwards.add(ForwardStatus.fromJson(item instanceof JsonObject json ? json : null));
      }
    } catch (IllegalArgumentException | ClassCastException e) {
      return Status.KO(new JsonObject().put("reason", "unreadable forwards list: " + e.getMessage()));
    }
    Map<ForwardStatus.Status, Integer> counts = new EnumMap<>(ForwardStatus.Status.class);
    JsonObject data = new JsonObject();
    JsonObject byState = new JsonObject();
    for (ForwardStatus.Status status : ForwardStatus.Status.values()) {
      List<ForwardStatus> in = forwards.stream().filter(f -> f.status() == status).toList();
      counts.put(status, in.size());
      byState.put(status.text(), in.size());
      if (status != ForwardStatus.Status.ACTIVE && !in.isEmpty()) {
        JsonArray listed = new JsonArray();
        in.forEach(f -> listed.add(new JsonObject().put("id", f.id()).put("container", f.containerName())
            .put("localPort", f.localPort()).put("reason", f.reason())));
        data.put(status.text(), listed);
      }
    }
    data.put("counts", byState);
    int conflicts = counts.get(ForwardStatus.Status.CONFLICT);
    if (conflicts == 0) {
      return Status.OK(data);
    }
    return Status.KO(data.put("reason", conflicts + " forward(s) in conflict: their local port is taken by"
        + " another process"));
  }
}
