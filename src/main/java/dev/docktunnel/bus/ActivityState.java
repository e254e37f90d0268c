package dev.docktunnel.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The activity picture: whether the server has been idle for the idle timeout, since when
 * nothing happened, and why it is not idle. The answer to {@code docktunnel.activity.query} and
 * the {@code docktunnel.activity.state} fact (published when the picture changes). Schema in
 * docs/events.md.
 *
 * @param idle nothing open that counts, and no activity for {@code idleTimeoutMs}
 * @param lastActivityAt the last activity (now while something open counts; docktunnel's start
 *     when nothing happened since)
 * @param idleForMs how long nothing happened (0 while something open counts)
 * @param idleTimeoutMs the timeout {@code idle} and the moments among {@code reasons} were judged by
 * @param activityCount rises with every activity seen; equal counts in two answers mean nothing
 *     happened between them
 * @param reasons open sources that count now, oldest first, then the latest moments within the
 *     idle timeout, newest first
 * @param unreadableFacts activity facts the ledger could not read (each a WARN)
 * @param unmatchedEnds closes of connections or streams the ledger never saw open (each a WARN)
 * @param seq the last fact this picture includes (a published fact: its own seq)
 */
public record ActivityState(boolean idle, Instant lastActivityAt, long idleForMs, long idleTimeoutMs,
    long activityCount, List<ActivityReason> reasons, long unreadableFacts, long unmatchedEnds, Instant at,
    long seq) implements Facts.Fact {

  public ActivityState {
    reasons = List.copyOf(reasons);
  }

  @Override
  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    reasons.forEach(r -> list.add(r.toJson()));
    return new JsonObject()
        .put("idle", idle)
        .put("lastActivityAt", lastActivityAt.toString())
        .put("idleForMs", idleForMs)
        .put("idleTimeoutMs", idleTimeoutMs)
        .put("activityCount", activityCount)
        .put("reasons", list)
        .put("unreadableFacts", unreadableFacts)
        .put("unmatchedEnds", unmatchedEnds)
        .put("at", at.toString())
        .put("seq", seq);
  }

  /** @throws IllegalArgumentException naming the field that is missing or wrong */
  public static ActivityState fromJson(JsonObject json) {
    FactFields f = FactFields.of("activity.state", json);
    if (!(json.getValue("reasons") instanceof JsonArray array)) {
      throw new IllegalArgumentException("activity.state fact: reasons is "
          + (json.getValue("reasons") == null ? "missing" : "not an array") + ", expected an array of reasons");
    }
    List<ActivityReason> reasons = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject reason)) {
        throw new IllegalArgumentException("activity.state fact: reasons[" + i + "] is not a JSON object");
      }
      reasons.add(ActivityReason.fromJson("activity.state reasons[" + i + "]", reason));
    }
    return new ActivityState(f.bool("idle"), f.instant("lastActivityAt"), f.count("idleForMs"),
        f.count("idleTimeoutMs"), f.count("activityCount"), reasons, f.count("unreadableFacts", 0),
        f.count("unmatchedEnds", 0), f.instant("at"), f.count("seq", 0));
  }
}
