package dev.docktunnel.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * The {@code docktunnel.lifecycle} fact: the remote server's lifecycle state as the lifecycle
 * verticle knows it, published on every change of state, reason or countdown. Also the reply of
 * {@code docktunnel.lifecycle.server}. Schema in docs/events.md.
 *
 * @param state the lifecycle state
 * @param provider the provider's name ({@code static}, {@code command}, {@code hetzner})
 * @param reason why the server is in this state, for humans (never secrets)
 * @param since when this state was entered
 * @param stopAt the countdown's deadline while {@code idle-warning}, else null
 * @param address where the last start put the server ({@code host[:port]}) when the provider
 *     said, else null: the SSH session goes there instead of the configured host's address
 * @param idleTimeoutMs {@code lifecycle.idleTimeout} in milliseconds
 * @param gracePeriodMs {@code lifecycle.gracePeriod} in milliseconds
 * @param at when this picture was taken
 */
public record LifecycleStatus(LifecycleState state, String provider, String reason, Instant since, Instant stopAt,
    String address, long idleTimeoutMs, long gracePeriodMs, Instant at) implements Facts.Fact {

  public LifecycleStatus {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(at, "at");
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("state", state.text())
        .put("provider", provider)
        .put("reason", reason)
        .put("since", since.toString())
        .put("stopAt", stopAt == null ? null : stopAt.toString())
        .put("address", address)
        .put("idleTimeoutMs", idleTimeoutMs)
        .put("gracePeriodMs", gracePeriodMs)
        .put("at", at.toString());
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static LifecycleStatus fromJson(JsonObject json) {
    FactFields f = FactFields.of("lifecycle", json);
    return new LifecycleStatus(f.wire("state", LifecycleState.class), f.string("provider"), f.string("reason"),
        f.instant("since"), f.optionalInstant("stopAt"), f.optionalString("address"), f.count("idleTimeoutMs"), f.count("gracePeriodMs"),
        f.instant("at"));
  }
}
