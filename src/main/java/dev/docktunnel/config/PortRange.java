package dev.docktunnel.config;

/** An inclusive TCP port range, written {@code 8000-8999} or a single {@code 5432}. */
public record PortRange(int from, int to) {

  public PortRange {
    if (from < 1 || to > 65535 || from > to) {
      throw new IllegalArgumentException("port range " + from + "-" + to + " is not within 1-65535");
    }
  }

  public boolean contains(int port) {
    return port >= from && port <= to;
  }

  /** Parses {@code 8000-8999} or {@code 5432}; the message names what is wrong. */
  public static PortRange parse(String text) {
    String t = text.trim();
    int dash = t.indexOf('-');
    try {
      if (dash < 0) {
        int p = Integer.parseInt(t);
        return new PortRange(p, p);
      }
      return new PortRange(Integer.parseInt(t.substring(0, dash).trim()),
          Integer.parseInt(t.substring(dash + 1).trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a port or a port range like 8000-8999");
    }
  }

  @Override
  public String toString() {
    return from == to ? Integer.toString(from) : from + "-" + to;
  }
}
