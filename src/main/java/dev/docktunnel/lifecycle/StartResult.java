package dev.docktunnel.lifecycle;

import java.util.Objects;
import java.util.Optional;

/**
 * What a provider's start learned.
 *
 * @param address the server's new address ({@code host[:port]}) when it changed, else empty
 */
public record StartResult(Optional<String> address) {

  public StartResult {
    Objects.requireNonNull(address, "address");
  }
}
