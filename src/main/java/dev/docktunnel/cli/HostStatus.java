package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;

/**
 * One host as {@code status} shows it.
 *
 * @param host the host's files
 * @param document the status document ({@code --json} prints it), null when there is none to show
 * @param state the document as a record, for the table; null with {@code document}
 * @param notRunning null when the daemon is live; else why not, starting "not running" or "stale"
 * @param warning the stderr line, or null
 */
record HostStatus(HostOptions.KnownHost host, JsonObject document, HostState state, String notRunning,
    String warning) {

  /** True when the daemon is live: it answered, or its state file is fresh. */
  boolean live() {
    return document != null && notRunning == null;
  }
}
