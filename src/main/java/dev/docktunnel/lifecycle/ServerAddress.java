package dev.docktunnel.lifecycle;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Where the SSH session should go after a start: a host name or IP literal, and a port when it
 * is not the configured one. Written {@code host}, {@code host:port}, {@code [v6]},
 * {@code [v6]:port}, or a bare IPv6 literal (which then has no port). Pure.
 *
 * @param host a DNS name, IPv4 or IPv6 literal (no brackets)
 * @param port the SSH port, or empty to keep the configured one
 */
public record ServerAddress(String host, OptionalInt port) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f.]*(:[0-9A-Fa-f.]*){2,}(%[A-Za-z0-9._-]+)?");
  private static final Pattern DIGITS = Pattern.compile("[0-9]{1,5}");

  public ServerAddress {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(port, "port");
    if (!NAME.matcher(host).matches() && !IPV6.matcher(host).matches()) {
      throw new IllegalArgumentException("'" + host + "' is not a host name or IP address");
    }
    if (port.isPresent() && (port.getAsInt() < 1 || port.getAsInt() > 65535)) {
      throw new IllegalArgumentException("port " + port.getAsInt() + " is out of range 1-65535");
    }
  }

  /**
   * Reads {@code host[:port]} (see the class comment).
   *
   * @throws IllegalArgumentException naming what is wrong with {@code text}
   */
  public static ServerAddress parse(String text) {
    String value = text.strip();
    if (value.isEmpty()) {
      throw new IllegalArgumentException("the address is empty; expected host[:port]");
    }
    try {
      if (value.startsWith("[")) {
        int close = value.indexOf(']');
        if (close < 0) {
          throw new IllegalArgumentException("no ']' after '['");
        }
        String host = value.substring(1, close);
        if (!IPV6.matcher(host).matches()) {
          throw new IllegalArgumentException("'" + host + "' in brackets is not an IPv6 address");
        }
        String rest = value.substring(close + 1);
        if (rest.isEmpty()) {
          return new ServerAddress(host, OptionalInt.empty());
        }
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("'" + rest + "' after ']' is not ':port'");
        }
        return new ServerAddress(host, OptionalInt.of(port(rest.substring(1))));
      }
      int colon = value.indexOf(':');
      if (colon < 0 || value.indexOf(':', colon + 1) >= 0) {
        return new ServerAddress(value, OptionalInt.empty());
      }
      return new ServerAddress(value.substring(0, colon), OptionalInt.of(port(value.substring(colon + 1))));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + value + "' is not host[:port]: " + e.getMessage(), e);
    }
  }

  private static int port(String text) {
    if (!DIGITS.matcher(text).matches()) {
      throw new IllegalArgumentException("port '" + text + "' is not a number");
    }
    return Integer.parseInt(text);
  }

  /** {@code host[:port]}, IPv6 literals in brackets, so {@link #parse} reads it back. */
  @Override
  public String toString() {
    String name = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port.isPresent() ? name + ":" + port.getAsInt() : name;
  }
}
