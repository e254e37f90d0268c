package dev.docktunnel.docker;

import io.vertx.core.json.JsonObject;
import java.util.Comparator;
import java.util.Locale;
import java.util.Objects;

/**
 * One container port published on the remote host: {@code hostIp:hostPort} on the Docker host
 * leads to {@code containerPort/protocol} in the container. The engine lists one entry per host
 * address, so a port published on all interfaces usually appears twice ({@code 0.0.0.0} and
 * {@code ::}).
 *
 * @param hostIp        host address the engine bound ({@code 0.0.0.0}, {@code ::}, or a specific
 *                      one); an empty engine value (meaning all interfaces) is reported as
 *                      {@code 0.0.0.0}
 * @param hostPort      port on the Docker host, 1..65535
 * @param containerPort port inside the container, 1..65535
 * @param protocol      {@code tcp}, {@code udp} or {@code sctp} (lower case)
 */
public record PublishedPort(String hostIp, int hostPort, int containerPort, String protocol)
    implements Comparable<PublishedPort> {

  private static final Comparator<PublishedPort> ORDER = Comparator
      .comparingInt(PublishedPort::containerPort)
      .thenComparing(PublishedPort::protocol)
      .thenComparingInt(PublishedPort::hostPort)
      .thenComparing(PublishedPort::hostIp);

  /** Validates and normalizes (empty host IP → {@code 0.0.0.0}, protocol lower case). */
  public PublishedPort {
    hostIp = hostIp == null || hostIp.isEmpty() ? "0.0.0.0" : hostIp;
    protocol = Objects.requireNonNullElse(protocol, "tcp").toLowerCase(Locale.ROOT);
    if (hostPort < 1 || hostPort > 65535) {
      throw new IllegalArgumentException("hostPort out of range: " + hostPort);
    }
    if (containerPort < 1 || containerPort > 65535) {
      throw new IllegalArgumentException("containerPort out of range: " + containerPort);
    }
  }

  /** Bus form: {@code {"hostIp","hostPort","containerPort","protocol"}}. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("hostIp", hostIp)
        .put("hostPort", hostPort)
        .put("containerPort", containerPort)
        .put("protocol", protocol);
  }

  /**
   * Reads the bus form back.
   *
   * @throws IllegalArgumentException when ports are missing or out of range
   */
  public static PublishedPort fromJson(JsonObject json) {
    Long hostPort = JsonFields.integer(json, "hostPort");
    Long containerPort = JsonFields.integer(json, "containerPort");
    if (hostPort == null || containerPort == null
        || hostPort < 1 || hostPort > 65535 || containerPort < 1 || containerPort > 65535) {
      throw new IllegalArgumentException(
          "published port needs hostPort and containerPort in 1..65535: " + json);
    }
    return new PublishedPort(JsonFields.string(json, "hostIp"), hostPort.intValue(),
        containerPort.intValue(), JsonFields.string(json, "protocol"));
  }

  @Override
  public int compareTo(PublishedPort other) {
    return ORDER.compare(this, other);
  }
}
