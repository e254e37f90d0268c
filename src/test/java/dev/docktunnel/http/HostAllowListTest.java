package dev.docktunnel.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which Host headers name the API: loopback names with our port or none; nothing else. */
class HostAllowListTest {
  final HostAllowList list = new HostAllowList(8123);

  @Test
  void loopbackNamesWithOurPortOrNone() {
    for (String host : List.of("localhost:8123", "127.0.0.1:8123", "[::1]:8123", "localhost", "127.0.0.1", "[::1]",
        "LocalHost:8123", " localhost:8123 ")) {
      assertTrue(list.allows(host), host);
    }
  }

  @Test
  void everythingElseIsRefused() {
    for (String host : List.of("evil.example:8123", "evil.example", "localhost:8124", "localhost:", "127.0.0.2:8123",
        "localhost.evil.example:8123", "::1", "::1:8123", "[::1]:80", "[::2]:8123", "0.0.0.0:8123", "",
        "localhost:8123:8123", "127.0.0.1.nip.io:8123")) {
      assertFalse(list.allows(host), host);
    }
    assertFalse(list.allows(null), "no Host header");
  }
}
