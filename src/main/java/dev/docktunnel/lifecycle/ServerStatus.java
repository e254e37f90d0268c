package dev.docktunnel.lifecycle;

import java.util.Objects;
import java.util.Optional;

/**
 * What a provider says about the server.
 *
 * @param state running, stopped, or not there at all
 * @param detail one line for people: where the answer came from, what the provider saw
 * @param address where the running server is, when the provider knows (a Hetzner server's IP:
 *     after a restart of docktunnel the session goes there, not to a stale configured address)
 */
public record ServerStatus(State state, String detail, Optional<ServerAddress> address) {

  /** The server's state as a provider knows it. */
  public enum State {
    /** It runs (the SSH session may still be coming up). */
    RUNNING,
    /** It exists and is stopped; a start brings it back. */
    STOPPED,
    /** It does not exist (deleted, or never created); a start creates it where the provider can. */
    NOT_FOUND
  }

  public ServerStatus {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(address, "address");
  }

  /** A status without an address: the session goes where it went. */
  public ServerStatus(State state, String detail) {
    this(state, detail, Optional.empty());
  }

  public static ServerStatus running(String detail) {
    return new ServerStatus(State.RUNNING, detail);
  }

  public static ServerStatus stopped(String detail) {
    return new ServerStatus(State.STOPPED, detail);
  }

  public static ServerStatus notFound(String detail) {
    return new ServerStatus(State.NOT_FOUND, detail);
  }
}
