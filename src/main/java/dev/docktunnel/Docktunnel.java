package dev.docktunnel;

import dev.docktunnel.cli.ExitCodes;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.containers.ContainerWatcherVerticle;
import dev.docktunnel.docker.DockerEngineClient;
import dev.docktunnel.forward.ForwardVerticle;
import dev.docktunnel.ssh.HostKeyRefusedException;
import dev.docktunnel.ssh.SshSessionVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: one Vert.x instance and the verticles of a running docktunnel.
 * Consumers deploy before the SSH verticle so they see its first {@code connected} fact.
 */
public final class Docktunnel {
  private static final Logger LOG = LoggerFactory.getLogger(Docktunnel.class);
  private static final long STOP_TIMEOUT_SECONDS = 10;

  private final Vertx vertx;
  private final SshSessionVerticle ssh;

  private Docktunnel(Vertx vertx, SshSessionVerticle ssh) {
    this.vertx = vertx;
    this.ssh = ssh;
  }

  /**
   * Deploys everything for {@code config}. Fails when the first SSH attempt cannot go on (bad
   * target, refused host key). Any other failure of the first connection fails
   * {@link SshSessionVerticle#firstConnection()} instead (unless {@code ssh.waitForHost}), which
   * {@link #runUntilStopped} maps to exit code 3.
   */
  public static Future<Docktunnel> start(Vertx vertx, DocktunnelConfig config) {
    SshSessionVerticle ssh = new SshSessionVerticle(config);
    DockerEngineClient engine = new DockerEngineClient(vertx, ssh.sessionProvider(), config.remoteDockerSocket());
    return vertx.deployVerticle(new ForwardVerticle(config.forwarding(), ssh.sessionProvider()))
        .compose(id -> vertx.deployVerticle(new ContainerWatcherVerticle(engine)))
        .compose(id -> vertx.deployVerticle(ssh))
        .map(id -> new Docktunnel(vertx, ssh));
  }

  /** The SSH verticle, e.g. to wait for {@link SshSessionVerticle#firstConnection()}. */
  public SshSessionVerticle ssh() {
    return ssh;
  }

  /** Stops every verticle (forwards close, the session ends) and the Vert.x instance. */
  public Future<Void> stop() {
    return vertx.close();
  }

  /**
   * Runs until the process is told to stop (SIGINT, SIGTERM) and returns the exit code.
   * Blocks the calling thread, which is the CLI's main thread, never an event loop.
   */
  public static int runUntilStopped(DocktunnelConfig config) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    // Names are resolved by the JDK (MINA connects with it); Vert.x's own DNS client would only
    // cost threads, classes and memory.
    System.setProperty("vertx.disableDnsResolver", "true");
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    CountDownLatch done = new CountDownLatch(1);
    int[] exit = {ExitCodes.OK};
    Thread hook = new Thread(() -> {
      LOG.info("stopping");
      stopQuietly(vertx);
      done.countDown();
    }, "docktunnel-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    start(vertx, config)
        .compose(app -> app.ssh().firstConnection())
        .onSuccess(state -> LOG.info("ready: forwarding published ports of {} to loopback", config.host()))
        .onFailure(error -> {
          LOG.error("{}", error.getMessage());
          exit[0] = error instanceof IllegalArgumentException ? ExitCodes.USAGE : ExitCodes.CONNECT;
          if (error instanceof HostKeyRefusedException) {
            exit[0] = ExitCodes.CONNECT;
          }
          done.countDown();
        });
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (exit[0] != ExitCodes.OK) {
      Runtime.getRuntime().removeShutdownHook(hook);
      stopQuietly(vertx);
    }
    return exit[0];
  }

  private static void stopQuietly(Vertx vertx) {
    try {
      vertx.close().await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("stopping took longer than {} s: {}", STOP_TIMEOUT_SECONDS, e.toString());
    }
  }
}
