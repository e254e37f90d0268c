package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table {@code docktunnel status} prints for one host: the host, its PID and uptime (or why
 * it is not running), the SSH state and since when, then one row per forward. Pure: the time is
 * passed in.
 *
 * <pre>
 * HOST  root@build-box:22  PID 4242  up 3m 12s
 * SSH   connected since 2026-12-01T12:40:01Z (3m 10s)
 * DOCKER unix:///home/me/.docktunnel/root-build-box-22-3f9a1c2b/docker.sock  2 connection(s), 14 request(s), 1 stream(s)
 * SERVER idle-warning (static) since 2026-12-01T12:42:30Z (42s): no activity since ...; stops at 2026-12-01T12:43:30Z (in 18s)
 * CONTAINER     NAME  LOCAL           REMOTE          STATE   DURATION  BYTES          REASON
 * 3f9a1c2b4d5e  web   127.0.0.1:8080  127.0.0.1:8080  active  3m 09s    1.2 KiB/340 B  -
 * </pre>
 */
final class StatusTable {
  static final List<String> COLUMNS =
      List.of("CONTAINER", "NAME", "LOCAL", "REMOTE", "STATE", "DURATION", "BYTES", "REASON");
  private static final int SHORT_ID = 12;
  private static final String GAP = "  ";

  private StatusTable() {
  }

  /**
   * @param state the host's record (from the daemon or the file)
   * @param notRunning null when the daemon is live; else {@link Liveness#reason()}
   * @param now the time durations are measured to
   * @return the lines, each ending with a newline
   */
  static String render(HostState state, String notRunning, Instant now) {
    StringBuilder out = new StringBuilder();
    out.append("HOST  ").append(state.host()).append(GAP).append("PID ").append(state.pid()).append(GAP);
    if (notRunning == null) {
      out.append("up ").append(duration(Duration.between(state.startedAt(), now)));
    } else {
      out.append(notRunning);
    }
    out.append('\n');
    HostState.Ssh ssh = state.ssh();
    out.append("SSH   ").append(ssh.state()).append(" since ").append(ssh.since().truncatedTo(ChronoUnit.SECONDS))
        .append(" (").append(duration(Duration.between(ssh.since(), now))).append(')');
    if (ssh.reason() != null && !ssh.reason().isBlank()) {
      out.append(": ").append(ssh.reason());
    }
    out.append('\n');
    HostState.DockerSocket docker = state.dockerSocket();
    if (docker != null) {
      out.append("DOCKER unix://").append(docker.path()).append(GAP);
      if (docker.listening() && notRunning == null) {
        out.append(docker.openConnections()).append(" connection(s), ").append(docker.requestsTotal())
            .append(" request(s), ").append(docker.openStreams()).append(" stream(s)");
      } else {
        out.append("not listening");
      }
      out.append('\n');
    }
    HostState.Server server = state.server();
    if (server != null) {
      out.append("SERVER ").append(server.state()).append(" (").append(server.provider()).append(") since ")
          .append(server.since().truncatedTo(ChronoUnit.SECONDS)).append(" (")
          .append(duration(Duration.between(server.since(), now))).append(')');
      if (server.reason() != null && !server.reason().isBlank()) {
        out.append(": ").append(server.reason());
      }
      if (server.stopAt() != null) {
        out.append("; stops at ").append(server.stopAt().truncatedTo(ChronoUnit.SECONDS)).append(" (in ")
            .append(duration(Duration.between(now, server.stopAt()))).append(')');
      }
      out.append('\n');
    }
    if (state.forwards().isEmpty()) {
      out.append("no forwards (no running container publishes a TCP port)\n");
      return out.toString();
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(COLUMNS);
    for (HostState.Forward f : state.forwards()) {
      rows.add(List.of(
          f.containerId().length() > SHORT_ID ? f.containerId().substring(0, SHORT_ID) : f.containerId(),
          f.containerName(),
          hostPort(f.localAddress(), f.localPort()),
          hostPort(f.remoteHost(), f.remotePort()),
          f.status(),
          duration(Duration.between(f.updatedAt(), now)),
          bytes(f.bytesIn()) + "/" + bytes(f.bytesOut()),
          f.reason() == null || f.reason().isBlank() ? "-" : f.reason()));
    }
    int[] widths = new int[COLUMNS.size()];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < row.size() - 1) {
          line.append(" ".repeat(widths[i] - cell.length())).append(GAP);
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }

  /** {@code 127.0.0.1:8080}, {@code [::1]:8080}. */
  static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** {@code 42s}, {@code 3m 12s}, {@code 2h 05m}, {@code 3d 04h}; a negative span (clock skew) is 0s. */
  static String duration(Duration span) {
    long s = Math.max(0, span.getSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
    }
    if (s < 86400) {
      return String.format(Locale.ROOT, "%dh %02dm", s / 3600, s % 3600 / 60);
    }
    return String.format(Locale.ROOT, "%dd %02dh", s / 86400, s % 86400 / 3600);
  }

  /** {@code 340 B}, {@code 1.2 KiB}, {@code 3.0 MiB}, ... (binary units, one decimal). */
  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = n;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }

  /**
   * Whether {@code status --watch} rings the terminal bell: the host's server just entered
   * {@code idle-warning} (its countdown began) since the document shown before.
   */
  static boolean countdownBegan(JsonObject before, JsonObject now) {
    return "idle-warning".equals(serverState(now)) && !"idle-warning".equals(serverState(before));
  }

  private static String serverState(JsonObject document) {
    JsonObject server = document == null ? null : document.getJsonObject("server");
    return server == null ? null : server.getString("state");
  }
}
