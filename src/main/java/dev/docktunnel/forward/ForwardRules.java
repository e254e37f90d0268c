package dev.docktunnel.forward;

import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.PublishedPort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pure rules: which of a container's published ports are forwarded, and to which local port.
 *
 * <ul>
 *   <li>label {@code docktunnel.forward=false} opts the whole container out;
 *   <li>label {@code docktunnel.port.<published>=<local>} remaps one port;
 *   <li>config include/exclude ranges filter by published port;
 *   <li>only TCP is forwarded: SSH channels carry streams, not datagrams.
 * </ul>
 */
public final class ForwardRules {
  public static final String OPT_OUT_LABEL = "docktunnel.forward";
  public static final String REMAP_LABEL_PREFIX = "docktunnel.port.";

  private ForwardRules() {
  }

  /** What one forward should be. */
  public record ForwardSpec(ForwardKey key, String containerName, ForwardTarget target, int localPort) {
  }

  /** A port that cannot be forwarded as asked, with the reason shown to the user. */
  public record Rejection(ForwardKey key, String containerName, String reason) {
  }

  /** The forwards a container wants, and the ones refused with a reason. */
  public record Plan(List<ForwardSpec> forwards, List<Rejection> rejections) {
  }

  /** Plans the forwards of a container; a container that is not running wants none. */
  public static Plan plan(ContainerInfo container, Forwarding config) {
    List<ForwardSpec> forwards = new ArrayList<>();
    List<Rejection> rejections = new ArrayList<>();
    Map<String, String> labels = container.labels();
    if (!container.isRunning()
        || "false".equalsIgnoreCase(labels.getOrDefault(OPT_OUT_LABEL, "").trim())) {
      return new Plan(forwards, rejections);
    }
    for (PublishedPort port : distinctByPublishedPort(container.ports()).values()) {
      ForwardKey key = new ForwardKey(container.id(), port.protocol(), port.hostPort());
      if (!selected(port.hostPort(), config)) {
        continue;
      }
      if (!"tcp".equals(port.protocol())) {
        rejections.add(new Rejection(key, container.name(),
            port.protocol() + " port " + port.hostPort() + " is not forwarded: SSH carries TCP only"));
        continue;
      }
      String remap = labels.get(REMAP_LABEL_PREFIX + port.hostPort());
      int localPort = port.hostPort();
      if (remap != null) {
        try {
          localPort = parseLocalPort(remap);
        } catch (IllegalArgumentException e) {
          rejections.add(new Rejection(key, container.name(),
              "label " + REMAP_LABEL_PREFIX + port.hostPort() + "=" + remap + ": " + e.getMessage()));
          continue;
        }
      }
      forwards.add(new ForwardSpec(key, container.name(),
          new ForwardTarget(remoteHost(port.hostIp()), port.hostPort()), localPort));
    }
    return new Plan(forwards, rejections);
  }

  /**
   * Docker lists a port once per address family (0.0.0.0 and ::); one forward serves both.
   * The IPv4 entry wins, as the remote loopback is then certain to answer.
   */
  private static Map<String, PublishedPort> distinctByPublishedPort(List<PublishedPort> ports) {
    Map<String, PublishedPort> byPort = new LinkedHashMap<>();
    for (PublishedPort port : ports) {
      String key = port.protocol() + "/" + port.hostPort();
      PublishedPort seen = byPort.get(key);
      if (seen == null || (isIpv6(seen.hostIp()) && !isIpv6(port.hostIp()))) {
        byPort.put(key, port);
      }
    }
    return byPort;
  }

  static boolean selected(int publishedPort, Forwarding config) {
    boolean included = config.include().isEmpty()
        || config.include().stream().anyMatch(r -> r.contains(publishedPort));
    boolean excluded = config.exclude().stream().anyMatch(r -> r.contains(publishedPort));
    return included && !excluded;
  }

  /**
   * The address the remote sshd connects to. A port published on all interfaces is reached on
   * the remote loopback; a port bound to one address only answers there.
   */
  static String remoteHost(String hostIp) {
    if (hostIp == null || hostIp.isEmpty() || "0.0.0.0".equals(hostIp)) {
      return "127.0.0.1";
    }
    if ("::".equals(hostIp)) {
      return "::1";
    }
    return hostIp;
  }

  private static boolean isIpv6(String ip) {
    return ip != null && ip.indexOf(':') >= 0;
  }

  private static int parseLocalPort(String text) {
    try {
      int port = Integer.parseInt(text.trim());
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // same message as out of range
    }
    throw new IllegalArgumentException("the local port must be a number from 1 to 65535");
  }
}
