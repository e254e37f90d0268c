package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ServerAddressTest {

  @Test
  void readsHostsWithAndWithoutPorts() {
    assertEquals(new ServerAddress("box.example", OptionalInt.empty()), ServerAddress.parse(" box.example "));
    assertEquals(new ServerAddress("10.1.2.3", OptionalInt.of(2222)), ServerAddress.parse("10.1.2.3:2222"));
    assertEquals(new ServerAddress("fd00::1", OptionalInt.of(22)), ServerAddress.parse("[fd00::1]:22"));
    assertEquals(new ServerAddress("fd00::1", OptionalInt.empty()), ServerAddress.parse("[fd00::1]"));
    assertEquals(new ServerAddress("fe80::1%eth0", OptionalInt.empty()), ServerAddress.parse("fe80::1%eth0"));
  }

  @Test
  void writesWhatItReads() {
    for (String text : new String[] {"box", "box:2222", "[fd00::1]:22", "[fd00::1]", "10.0.0.1"}) {
      assertEquals(text, ServerAddress.parse(text).toString());
    }
    assertEquals("[::1]", ServerAddress.parse("::1").toString());
  }

  @Test
  void refusesWhatIsNotHostAndPort() {
    assertMessage("", "the address is empty; expected host[:port]");
    assertMessage("box:", "'box:' is not host[:port]: port '' is not a number");
    assertMessage("box:22x", "'box:22x' is not host[:port]: port '22x' is not a number");
    assertMessage("box:0", "'box:0' is not host[:port]: port 0 is out of range 1-65535");
    assertMessage("box:65536", "'box:65536' is not host[:port]: port 65536 is out of range 1-65535");
    assertMessage("two words", "'two words' is not host[:port]: 'two words' is not a host name or IP address");
    assertMessage("user@box", "'user@box' is not host[:port]: 'user@box' is not a host name or IP address");
    assertMessage("[::1", "'[::1' is not host[:port]: no ']' after '['");
    assertMessage("[box]:22", "'[box]:22' is not host[:port]: 'box' in brackets is not an IPv6 address");
    assertMessage("[::1]22", "'[::1]22' is not host[:port]: '22' after ']' is not ':port'");
    assertMessage("-box", "'-box' is not host[:port]: '-box' is not a host name or IP address");
  }

  private static void assertMessage(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerAddress.parse(text));
    assertEquals(message, e.getMessage());
    assertTrue(e.getMessage().indexOf('\n') < 0);
  }
}
