package dev.docktunnel;

import dev.docktunnel.activity.ActivityGate;
import dev.docktunnel.activity.ActivityVerticle;
import dev.docktunnel.bridge.BridgeCounters;
import dev.docktunnel.bridge.BridgeLimits;
import dev.docktunnel.bridge.EventBridgeVerticle;
import dev.docktunnel.bridge.EventBusSockJs;
import dev.docktunnel.cli.ExitCodes;
import dev.docktunnel.config.DocktunnelConfig;
import dev.docktunnel.containers.ContainerWatcherVerticle;
import dev.docktunnel.dockerapi.DockerSocketVerticle;
import dev.docktunnel.docker.DockerEngineClient;
import dev.docktunnel.forward.ForwardVerticle;
import dev.docktunnel.forward.RestoredForward;
import dev.docktunnel.http.HttpApiVerticle;
import dev.docktunnel.lifecycle.LifecycleVerticle;
import dev.docktunnel.lifecycle.LifecycleWake;
import dev.docktunnel.lifecycle.ServerProviders;
import dev.docktunnel.metrics.BridgeMeters;
import dev.docktunnel.metrics.DocktunnelMetrics;
import dev.docktunnel.metrics.MetricsVerticle;
import dev.docktunnel.metrics.TunnelMeters;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import dev.docktunnel.bus.SessionState;
import dev.docktunnel.ssh.SshSessionVerticle;
import dev.docktunnel.state.HostClaim;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateWriterVerticle;
import java.time.Clock;
import dev.docktunnel.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: one Vert.x instance and the verticles of a running docktunnel.
 * Consumers deploy before the SSH verticle so they see its first {@code connected} fact.
 */
public final class Docktunnel {
  private static final long READY_QUERY_TIMEOUT_MS = 5_000;
  private static final Logger LOG = LoggerFactory.getLogger(Docktunnel.class);
  private static final long STOP_TIMEOUT_SECONDS = 10;
  private static final int WORKER_THREADS = 4;

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
    return start(vertx, config, Optional.empty());
  }

  /**
   * In-process (tests, embedding): no Vert.x meters, POST /stop closes this Vert.x only, and a
   * local Docker socket only where {@code dockerSocket} says (a run puts it in the state dir).
   */
  public static Future<Docktunnel> start(Vertx vertx, DocktunnelConfig config, Optional<Path> dockerSocket) {
    return start(vertx, config, new SshSessionVerticle(config), List.of(), Optional.empty(),
        DocktunnelMetrics.create(), () -> vertx.close(), dockerSocket, Promise.promise());
  }

  private static Future<Docktunnel> start(Vertx vertx, DocktunnelConfig config, SshSessionVerticle ssh,
      List<RestoredForward> restored, Optional<HostState.Server> lastServer, DocktunnelMetrics metrics,
      Runnable stopDaemon, Optional<Path> dockerSocket,
      Promise<Void> localsDeployed) {
    DocktunnelConfig.Lifecycle lifecycle = config.lifecycle();
    ActivityGate gate = new ActivityGate();
    LifecycleWake wake = new LifecycleWake(vertx, gate, lifecycle.wakeTimeout());
    DockerEngineClient engine = new DockerEngineClient(vertx, ssh.sessionProvider(), config.remoteDockerSocket());
    BridgeCounters bridgeCounters = new BridgeCounters(); // one set for the TCP and the SockJS bridge
    BridgeMeters.bind(metrics.registry(), bridgeCounters);
    return ServerProviders.forConfig(vertx, config)
        .compose(provider -> vertx.deployVerticle(
                new MetricsVerticle(new TunnelMeters(metrics.registry(), Clock.systemUTC()), metrics))
            // Before the forwards and the Docker socket, so the ledger sees every opening.
            .compose(id -> vertx.deployVerticle(new ActivityVerticle(Clock.systemUTC(),
                lifecycle.connectionTimeout(), lifecycle.idleTimeout())))
            .compose(id -> vertx.deployVerticle(new LifecycleVerticle(lifecycle, provider, gate, Clock.systemUTC(),
                lastServer))))
        .compose(id -> vertx.deployVerticle(new ForwardVerticle(config.forwarding(), ssh.sessionProvider(), wake,
            restored)))
        .compose(id -> dockerSocket.isEmpty() ? Future.succeededFuture(id)
            : vertx.deployVerticle(new DockerSocketVerticle(dockerSocket.get(), config.remoteDockerSocket(),
                ssh.sessionProvider(), wake, config.docker().holdStart(), config.forwarding().holdTimeout(),
                Clock.systemUTC())))
        .compose(id -> vertx.deployVerticle(
            new EventBridgeVerticle(config.bridgePort(), BridgeLimits.DEFAULT, bridgeCounters, Clock.systemUTC())))
        .compose(id -> vertx.deployVerticle(new HttpApiVerticle(config.httpPort(), config.stateDir(), metrics,
            stopDaemon, List.of((v, router) -> router.route("/eventbus/*")
                .subRouter(EventBusSockJs.router(v, BridgeLimits.DEFAULT, bridgeCounters))))))
        .compose(id -> vertx.deployVerticle(new ContainerWatcherVerticle(engine)))
        .compose(id -> {
          // Everything but the session, whose start waits for the first attempt, is up.
          localsDeployed.tryComplete();
          return vertx.deployVerticle(ssh);
        })
        .onComplete(done -> localsDeployed.tryComplete())
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
   * Runs until the process is told to stop (SIGINT, SIGTERM, SIGHUP), then stops gracefully and
   * ends the process with exit code 0; returns the exit code when the start fails instead.
   * Blocks the calling thread, which is the CLI's main thread, never an event loop.
   */
  public static int runUntilStopped(DocktunnelConfig config, HostClaim claim) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    // Names are resolved by the JDK (MINA connects with it); Vert.x's own DNS client would only
    // cost threads, classes and memory.
    System.setProperty("vertx.disableDnsResolver", "true");
    AtomicReference<Vertx> started = new AtomicReference<>();
    AtomicBoolean stopRequested = new AtomicBoolean();
    AtomicReference<Future<String>> stateWriter = new AtomicReference<>();
    Promise<Void> localsDeployed = Promise.promise();
    CompletableFuture<Integer> failed = new CompletableFuture<>();
    // A requested stop exits 0, as service managers expect. The JVM ends a signal-initiated
    // shutdown with 128+n (143, 130) and System.exit may not be called from a hook (it would
    // block forever), so the hook ends the process itself with Runtime.halt once the graceful
    // stop is done. Chosen over sun.misc.Signal handlers: public API (no unsupported-API warning
    // on every build, no replaced JVM handlers under -Xrs or in an embedding process), and it
    // covers every signal that starts a shutdown. halt skips hooks that have not finished; we
    // register the only one, and nothing is left to flush (logs go to stderr unbuffered).
    // Registered before Vert.x starts, so a stop at any moment of the start is a clean one; before
    // Vert.x exists there is nothing to stop.
    Thread hook = new Thread(() -> {
      stopRequested.set(true);
      LOG.info("stopping");
      Vertx running = started.get();
      Runtime.getRuntime().halt(running == null
          || stopQuietly(running, stateWriter.get(), localsDeployed.future()) ? ExitCodes.OK : ExitCodes.FAILED);
    }, "docktunnel-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    LOG.info("starting: {}, state file {}", config.host(), claim.stateFile().path());
    DocktunnelMetrics metrics = DocktunnelMetrics.create();
    Vertx vertx;
    try {
      vertx = Vertx.builder().with(metrics.enableIn(footprint(new VertxOptions().setPreferNativeTransport(true))))
          .withMetrics(metrics.vertxMetricsFactory()).build();
    } catch (IllegalStateException shuttingDown) {
      // Vert.x registers a JVM shutdown hook of its own while it is built, refused once a stop has
      // begun: that stop is ours (the hook ends the process); the caller's System.exit waits for it.
      if (String.valueOf(shuttingDown.getMessage()).contains("Shutdown in progress")) {
        return ExitCodes.OK;
      }
      throw shuttingDown;
    }
    started.set(vertx);
    SshSessionVerticle ssh = new SshSessionVerticle(config);
    Future<JsonObject> firstSync = firstFact(vertx, Addresses.CONTAINERS_SYNCED);
    announceReadyWhileStopped(vertx, config, ssh);
    // The state writer first, so it sees every fact from the start on.
    stateWriter.set(
        vertx.deployVerticle(new StateWriterVerticle(claim.stateFile(), config.host(), Clock.systemUTC())));
    stateWriter.get()
        .onFailure(e -> localsDeployed.tryComplete())
        .compose(id -> start(vertx, config, ssh, restoredForwards(claim),
            claim.previous().map(HostState::server), metrics, HttpApiVerticle.exitProcess(),
            Optional.of(claim.dir().dockerSocket()), localsDeployed))
        .compose(app -> ssh.firstConnection())
        .onSuccess(state -> firstSync.onSuccess(synced -> announceReady(vertx, config, synced)))
        .onFailure(error -> {
          if (stopRequested.get()) {
            return; // the stop ended the session before it was up: an expected ending, not a failure
          }
          // The session verticle leaves a first connection's failure to us (DEBUG there): said once.
          LOG.error("{}", error.getMessage());
          boolean sessionFailed = ssh.state().filter(s -> s.state() == SessionState.State.FAILED).isPresent();
          failed.complete(error instanceof IllegalArgumentException ? ExitCodes.USAGE
              : sessionFailed ? ExitCodes.CONNECT : ExitCodes.FAILED);
        });
    int exit;
    try {
      exit = failed.join();
    } catch (RuntimeException e) {
      exit = ExitCodes.FAILED;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // A stop was requested meanwhile: the hook stops and ends the process; the caller's
      // System.exit blocks until it has.
      return ExitCodes.OK;
    }
    stopQuietly(vertx, stateWriter.get(), localsDeployed.future());
    return exit;
  }

  /**
   * Fewer threads than Vert.x's defaults (2 event loops per core, 20 workers), each a stack and a
   * malloc cache in the resident size: the verticles are light, the data path runs on its own
   * Netty and MINA threads, and the blocking work (a connect's name lookup, a state-file write, a
   * key file read) is short; provider commands have a pool of their own.
   */
  static VertxOptions footprint(VertxOptions options) {
    return options.setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors()))
        .setWorkerPoolSize(WORKER_THREADS);
  }

  /** The last run's forwards, to bind again before the session is up. */
  private static List<RestoredForward> restoredForwards(HostClaim claim) {
    return claim.previous().map(last -> last.forwards().stream()
        .map(f -> new RestoredForward(f.containerId(), f.containerName(), f.protocol(), f.publishedPort(),
            f.remoteHost(), f.remotePort(), f.requestedLocalPort(), f.localPort()))
        .toList()).orElse(List.of());
  }

  /** The first fact published on {@code address} from now on. */
  private static Future<JsonObject> firstFact(Vertx vertx, String address) {
    Promise<JsonObject> first = Promise.promise();
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(address);
    consumer.handler(message -> {
      consumer.unregister();
      first.tryComplete(message.body());
    });
    return first.future();
  }

  /**
   * A server found stopped (a restart after an idle stop) is ready too: its forwards and the
   * Docker socket listen and start it on demand. Said once, if before the first session.
   */
  private static void announceReadyWhileStopped(Vertx vertx, DocktunnelConfig config, SshSessionVerticle ssh) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.LIFECYCLE);
    consumer.handler(message -> {
      String state = message.body().getString("state");
      if (ssh.firstConnection().isComplete() || "running".equals(state)) {
        consumer.unregister();
      } else if ("stopped".equals(state)) {
        consumer.unregister();
        LOG.info("ready: {}: the server is stopped ({}); a connection to a forward or a Docker request starts it",
            config.host(), message.body().getString("reason"));
      }
    });
  }

  /**
   * "ready" only once the engine answered (its first container sync), with what there is: the
   * engine's version, its running containers and the forwards planned for them.
   */
  private static void announceReady(Vertx vertx, DocktunnelConfig config, JsonObject synced) {
    int containers = synced.getJsonArray("ids", new JsonArray()).size();
    vertx.eventBus().<JsonObject>request(Addresses.FORWARDS_LIST, new JsonObject(),
            new DeliveryOptions().setSendTimeout(READY_QUERY_TIMEOUT_MS))
        .onComplete(answer -> {
          String forwards = answer.succeeded()
              ? answer.result().body().getJsonArray("forwards", new JsonArray()).size() + " forward(s)"
              : "forwards unknown (" + answer.cause().getMessage() + ")";
          LOG.info("ready: {}: Docker engine {}, {} container(s) running, {}", config.host(),
              synced.getString("engineVersion", "(version unknown)"), containers, forwards);
        });
  }

  /**
   * Stops Vert.x and every verticle, bounded; false when that failed or took too long. The state
   * writer goes first, so the record it leaves (running: false) keeps the forwards as they were,
   * for the next start, rather than the "stopped" facts of the stop itself.
   */
  private static boolean stopQuietly(Vertx vertx, Future<String> stateWriter, Future<Void> localsDeployed) {
    try {
      // Closing Vert.x while a verticle is still deploying makes Vert.x 5.1 log "Promise already
      // completed" when that start then succeeds: let the local verticles (sub-second) finish.
      localsDeployed.await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      // A stop in the first moments may come while the writer is still deploying: let it finish
      // (one file write), or closing Vert.x would interrupt that write and leave running: true.
      String writer = null;
      if (stateWriter != null) {
        try {
          writer = stateWriter.await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          throw e;
        } catch (Exception failedToDeploy) {
          writer = null; // reported where the start failed
        }
      }
      Future<Void> writerStopped = writer == null ? Future.succeededFuture()
          : vertx.undeploy(writer).recover(e -> {
            LOG.warn("state file not marked stopped: {}", e.toString());
            return Future.succeededFuture();
          });
      // Awaited one after the other: a continuation of the undeploy would run on an event loop
      // that vertx.close() stops, and never complete.
      writerStopped.await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      vertx.close().await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return true;
    } catch (TimeoutException e) {
      LOG.warn("stopping took longer than {} s; exiting anyway", STOP_TIMEOUT_SECONDS);
    } catch (Exception e) {
      LOG.warn("stopping failed: {}", e.toString());
    }
    return false;
  }
}
