package dev.docktunnel.forward;

import dev.docktunnel.bus.ForwardStatus;
import dev.docktunnel.bus.ForwardStatus.Status;
import dev.docktunnel.forward.ForwardRules.ForwardSpec;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One forward's live state. Owned and mutated only by {@link ForwardVerticle} on its context.
 * Each (re)creation gets a new session id, so late results of an old one are ignored.
 */
final class Forward {
  final ForwardKey key;
  final String containerName;
  final ForwardTarget target;
  final int requestedLocalPort;
  final String sessionId = UUID.randomUUID().toString();
  final Instant createdAt;
  final ForwardCounters counters = new ForwardCounters();
  final List<Channel> listeners = new ArrayList<>();
  /** The local addresses actually bound (::1 is skipped where IPv6 is unavailable). */
  final List<String> boundAddresses = new ArrayList<>();
  int localPort;
  Status status = Status.PENDING;
  String reason;
  Instant updatedAt;
  /** The open local connections, so none outlives the forward. Netty removes closed ones. */
  final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  long probeTimer = -1;
  long probeDelayMs;
  long rebindTimer = -1;
  /** False for a forward restored from the last run until a container fact asks for it. */
  boolean confirmed = true;
  long rebindDelayMs;
  /** Counter values at the last activity fact, to publish only on change. */
  long reportedIn;
  long reportedOut;
  int reportedOpen;

  Forward(ForwardKey key, String containerName, ForwardTarget target, int requestedLocalPort, Instant now) {
    this.key = key;
    this.containerName = containerName;
    this.target = target;
    this.requestedLocalPort = requestedLocalPort;
    this.localPort = requestedLocalPort;
    this.createdAt = now;
    this.updatedAt = now;
  }

  static Forward of(ForwardSpec spec, Instant now) {
    return new Forward(spec.key(), spec.containerName(), spec.target(), spec.localPort(), now);
  }

  /** True when this forward already is what {@code spec} asks for. */
  boolean matches(ForwardSpec spec) {
    return target.equals(spec.target()) && requestedLocalPort == spec.localPort()
        && status != Status.REJECTED;
  }

  /** The forward as published: the {@code docktunnel.forward.status} fact. */
  ForwardStatus status() {
    return new ForwardStatus(key.id(), key.containerId(), containerName, key.protocol(), key.publishedPort(),
        target.host(), target.port(), localPort, requestedLocalPort, boundAddresses, status, reason, sessionId,
        createdAt, updatedAt, counters.openConnections(), counters.connectionsTotal(), counters.connectionsFailed(),
        counters.bytesIn(), counters.bytesOut());
  }

}
