package dev.docktunnel.cli;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.Facts;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The human line {@code docktunnel events} prints for a fact: time, address (without {@code
 * docktunnel.}), seq and the gist. Lenient: a field a fact lacks shows as {@code ?}; the line is
 * for reading, {@code --json} is for programs. Pure apart from the clock for facts without a time.
 */
final class EventsCommandLines {
  private final Clock clock;

  EventsCommandLines(Clock clock) {
    this.clock = clock;
  }

  String line(String address, JsonObject fact) {
    String shortName = address.startsWith("docktunnel.") ? address.substring("docktunnel.".length()) : address;
    return String.format("%s %-20s #%-6d %s", time(fact), shortName, Facts.seqOf(fact), gist(address, fact));
  }

  private String time(JsonObject fact) {
    for (String key : new String[] {"at", "updatedAt"}) {
      if (fact.getValue(key) instanceof String text) {
        try {
          return Instant.parse(text).toString();
        } catch (DateTimeParseException e) {
          // not a time: try the next field, then the clock
        }
      }
    }
    return clock.instant().toString();
  }

  static String gist(String address, JsonObject f) {
    return switch (address) {
      case Addresses.FORWARD_STATUS -> s(f, "containerName") + " 127.0.0.1:" + s(f, "localPort") + " -> "
          + s(f, "publishedPort") + "/" + s(f, "protocol") + " " + s(f, "status") + reason(f);
      case Addresses.SSH_STATE -> s(f, "state") + " " + s(f, "host") + reason(f);
      case Addresses.CONTAINER -> s(f, "name") + " (" + shortId(s(f, "id")) + ") " + s(f, "state")
          + ports(f.getValue("ports"));
      case Addresses.CONTAINERS_SYNCED -> (f.getValue("ids") instanceof JsonArray ids ? ids.size() : "?")
          + " container(s) running, engine " + s(f, "engineVersion");
      case Addresses.CONTAINERS_UNSYNCED -> "containers may be stale" + reason(f);
      case Addresses.ACTIVITY_CONNECTION -> "connection " + s(f, "event") + " from " + s(f, "peer") + " on :"
          + s(f, "localPort") + " (in " + s(f, "bytesIn") + " B, out " + s(f, "bytesOut") + " B)";
      case Addresses.ACTIVITY_BYTES -> ":" + s(f, "localPort") + " in " + s(f, "bytesIn") + " B, out "
          + s(f, "bytesOut") + " B, " + s(f, "openConnections") + " open";
      case Addresses.ENDPOINT -> s(f, "kind") + " listening on " + s(f, "address") + ":" + s(f, "port");
      default -> f.encode();
    };
  }

  private static String s(JsonObject f, String key) {
    Object value = f.getValue(key);
    return value == null ? "?" : value.toString();
  }

  private static String reason(JsonObject f) {
    return f.getValue("reason") instanceof String r && !r.isEmpty() ? ": " + r : "";
  }

  private static String shortId(String id) {
    return id.length() > 12 ? id.substring(0, 12) : id;
  }

  private static String ports(Object ports) {
    if (!(ports instanceof JsonArray array) || array.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder(", ports");
    for (Object p : array) {
      if (p instanceof JsonObject port) {
        out.append(' ').append(s(port, "hostPort")).append("->").append(s(port, "containerPort"))
            .append('/').append(s(port, "protocol"));
      }
    }
    return out.toString();
  }
}
