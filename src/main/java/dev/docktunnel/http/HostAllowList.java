package dev.docktunnel.http;

import java.util.Locale;
import java.util.Set;

/**
 * Which {@code Host} headers the HTTP API answers: loopback names only, with our port or none.
 * Anything else is a DNS-rebinding attempt (a page on evil.example resolving its name to
 * 127.0.0.1, CVE-2018-7160) and gets 403. Pure.
 */
public final class HostAllowList {
  private static final Set<String> NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

  private final int port;

  public HostAllowList(int port) {
    this.port = port;
  }

  /** True when {@code host} (the header's value, null when absent) names us. */
  public boolean allows(String host) {
    if (host == null) {
      return false;
    }
    String value = host.trim().toLowerCase(Locale.ROOT);
    int colon = value.lastIndexOf(':');
    // "[::1]" has colons inside the brackets: a port follows only after the closing bracket.
    if (colon > value.lastIndexOf(']')) {
      String portText = value.substring(colon + 1);
      if (!portText.equals(Integer.toString(port))) {
        return false;
      }
      value = value.substring(0, colon);
    }
    return NAMES.contains(value);
  }
}
