package dev.docktunnel.lifecycle;

import java.util.Objects;
import java.util.Optional;

/**
 * What a start achieved beyond "it runs": the server's new address when it changed (a new cloud
 * server gets a new IP), else none, and the session goes to the address it had. The host key at
 * a new address is checked like any other (known_hosts policy).
 *
 * @param address the new address, or empty for "unchanged"
 */
public record StartResult(Optional<ServerAddress> address) {

  private static final StartResult UNCHANGED = new StartResult(Optional.empty());

  public StartResult {
    Objects.requireNonNull(address, "address");
  }

  /** The server is back at its old address. */
  public static StartResult unchanged() {
    return UNCHANGED;
  }

  /** The server is back at {@code address}. */
  public static StartResult at(ServerAddress address) {
    return new StartResult(Optional.of(address));
  }
}
