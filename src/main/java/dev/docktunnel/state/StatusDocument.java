package dev.docktunnel.state;

import io.vertx.core.json.JsonObject;

/**
 * The one document {@code docktunnel status --json} prints and {@code GET /status} answers:
 * the host's {@link HostState} record (the state file's field names) plus {@code schema}, the
 * {@code seq} it is current to, where it came from and whether it is stale. {@link
 * HostState#fromJson} reads it back, since it ignores the fields it does not know.
 */
public final class StatusDocument {
  /** The version of this document's shape; a new one only for an incompatible change. */
  public static final int SCHEMA = 1;

  private StatusDocument() {
  }

  /** Where a status document came from. */
  public enum Source {
    /** Asked of the running daemon. */
    DAEMON("daemon"),
    /** Read from the state file, the daemon not answering. */
    STATE_FILE("state-file");

    private final String text;

    Source(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }
  }

  /** A live daemon's picture, current to {@code seq}. */
  public static JsonObject live(HostState state, long seq) {
    return new JsonObject().put("schema", SCHEMA).put("seq", seq).put("source", Source.DAEMON.text())
        .put("stale", false).put("staleReason", null).mergeIn(state.toJson());
  }

  /** A state file's record, read because the daemon did not answer. */
  public static JsonObject fromFile(HostState state, boolean stale, String staleReason) {
    return new JsonObject().put("schema", SCHEMA).put("seq", null).put("source", Source.STATE_FILE.text())
        .put("stale", stale).put("staleReason", staleReason).mergeIn(state.toJson());
  }
}
