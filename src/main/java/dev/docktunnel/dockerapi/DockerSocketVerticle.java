package dev.docktunnel.dockerapi;

import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerSocketStatus;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.forward.ForwardCounters;
import dev.docktunnel.forward.ForwardProxy;
import dev.docktunnel.forward.RemoteSocket;
import dev.docktunnel.forward.WakeOnDemand;
import dev.docktunnel.ssh.SessionProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local Docker API socket: a Unix socket ({@code <state-dir>/<host-id>/docker.sock}, 0600 in
 * a 0700 folder; never TCP, since the Docker API is root on the remote for anyone who reaches
 * it) whose every connection becomes one {@code direct-streamlocal} channel to the remote
 * engine's socket, on the forwards' data path ({@link ForwardProxy}), half-close both ways. Each
 * connection is watched by a {@link DockerApiTap}: requests become activity facts, and a
 * container start's answer waits for its forwards.
 *
 * <p>Publishes {@link Addresses#DOCKER_SOCKET} when it starts and stops listening and once a
 * second while its counters change. The socket file is removed on stop (a crash leaves it; the
 * next start's {@code HostClaim} removes it).
 */
public final class DockerSocketVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DockerSocketVerticle.class);
  /** sun_path is 108 bytes on Linux, with the terminating NUL. */
  static final int MAX_SOCKET_PATH_BYTES = 107;
  private static final long STATUS_PERIOD_MS = 1_000;

  private final Path socket;
  private final RemoteSocket remote;
  private final SessionProvider sessions;
  private final WakeOnDemand wake;
  private final Duration holdStart;
  private final Duration holdTimeout;
  private final Clock clock;
  private final ForwardCounters counters = new ForwardCounters();
  private final DockerCounters docker = new DockerCounters();
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private ForwardProxy proxy;
  private Channel listener;
  private DockerSocketStatus reported;

  /**
   * @param socket where to listen
   * @param remoteSocket the engine's socket path on the remote host
   * @param wake where a connection that finds the server stopped asks for it
   * @param holdStart {@code docker.holdStart}
   * @param holdTimeout {@code forwarding.holdTimeout}: how long a connection waits for the session
   */
  public DockerSocketVerticle(Path socket, String remoteSocket, SessionProvider sessions, WakeOnDemand wake,
      Duration holdStart, Duration holdTimeout, Clock clock) {
    this.socket = socket.toAbsolutePath();
    this.remote = new RemoteSocket(remoteSocket);
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.wake = Objects.requireNonNull(wake, "wake");
    this.holdStart = holdStart;
    this.holdTimeout = holdTimeout;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    int length = socket.toString().getBytes(StandardCharsets.UTF_8).length;
    if (length > MAX_SOCKET_PATH_BYTES) {
      return Future.failedFuture(new IllegalArgumentException("the local Docker socket " + socket + " is "
          + length + " bytes long; a Unix socket path may have at most " + MAX_SOCKET_PATH_BYTES
          + ": choose a shorter stateDir (--state-dir)"));
    }
    proxy = new ForwardProxy(sessions, wake, 1, holdTimeout, ForwardProxy.HOLD_LIMIT);
    DockerApiTap.Settings settings = new DockerApiTap.Settings(vertx, holdStart, docker, clock);
    ChannelFuture bound = proxy.listen(UnixDomainSocketAddress.of(socket), remote,
        (local, limitRaised) -> new DockerApiTap(local, limitRaised, settings), counters, connections,
        this::connectionEvent);
    Promise<Channel> listening = Promise.promise();
    bound.addListener(f -> {
      if (f.isSuccess()) {
        listening.complete(bound.channel());
      } else {
        listening.fail(f.cause());
      }
    });
    return listening.future()
        .recover(e -> Future.failedFuture(new IOException("cannot listen on the local Docker socket " + socket
            + ": " + e.getMessage(), e)))
        .compose(ch -> {
          listener = ch;
          // Bound under the 0700 folder, so nobody else could connect before the mode is set.
          return vertx.executeBlocking(() -> Files.setPosixFilePermissions(socket,
              PosixFilePermissions.fromString("rw-------")));
        })
        .onSuccess(v -> {
          LOG.info("docker socket listening: {} (export DOCKER_HOST=unix://{}), to remote {}", socket, socket,
              remote.path());
          publishStatus(null);
          vertx.setPeriodic(STATUS_PERIOD_MS, id -> publishStatus(null));
        })
        .recover(e -> closeAll().transform(v -> Future.failedFuture(e)));
  }

  @Override
  public Future<?> stop() {
    return closeAll().onComplete(v -> publishStatus("docktunnel stopped"));
  }

  /** Stops listening, ends the connections, removes the socket file and stops the I/O thread. */
  private Future<Void> closeAll() {
    if (proxy == null) {
      return Future.succeededFuture();
    }
    proxy.stopping();
    if (listener != null) {
      ForwardProxy.unlisten(listener);
    }
    connections.forEach(ForwardProxy::reset);
    return vertx.executeBlocking(() -> {
      try {
        Files.deleteIfExists(socket);
      } catch (NoSuchFileException gone) {
        // nothing to remove
      } catch (IOException e) {
        LOG.warn("could not remove the local Docker socket {}: {}", socket, e.toString());
      }
      return null;
    }).compose(v -> proxy.close());
  }

  private void connectionEvent(ActivityConnection.Event event, String peer, long bytesIn, long bytesOut) {
    LOG.debug("docker socket: {} {} ({} bytes in, {} out)", peer, event.text(), bytesIn, bytesOut);
  }

  /** Publishes the socket's status; only when it changed, unless it stops ({@code reason}). */
  private void publishStatus(String reason) {
    DockerSocketStatus now = new DockerSocketStatus(socket.toString(), reason == null, reason,
        counters.openConnections(), counters.connectionsTotal(), counters.connectionsFailed(), docker.requests(),
        docker.openStreams(), docker.startHoldTimeouts(), counters.bytesIn(), counters.bytesOut(), clock.instant());
    if (reason == null && reported != null && sameCounts(reported, now)) {
      return;
    }
    reported = now;
    Facts.publish(vertx.eventBus(), Addresses.DOCKER_SOCKET, now);
  }

  private static boolean sameCounts(DockerSocketStatus a, DockerSocketStatus b) {
    return a.listening() == b.listening() && a.openConnections() == b.openConnections()
        && a.connectionsTotal() == b.connectionsTotal() && a.connectionsFailed() == b.connectionsFailed()
        && a.requestsTotal() == b.requestsTotal() && a.openStreams() == b.openStreams()
        && a.startHoldTimeouts() == b.startHoldTimeouts() && a.bytesIn() == b.bytesIn()
        && a.bytesOut() == b.bytesOut();
  }
}
