package dev.docktunnel.containers;

import dev.docktunnel.docker.ApiVersion;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.DockerEngine;
import dev.docktunnel.docker.DockerEngineException;
import dev.docktunnel.docker.DockerEvent;
import dev.docktunnel.docker.EngineVersion;
import dev.docktunnel.docker.EventStream;
import dev.docktunnel.docker.NoSuchContainerException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-process Docker engine for watcher tests: a table of containers (what list and inspect
 * answer), an event stream the test feeds, and optionally inspects held back so the test decides
 * when and in which order they answer.
 */
final class FakeDockerEngine implements DockerEngine {
  /** The engine's containers by id, in any state (list shows running and paused ones). */
  final Map<String, ContainerInfo> containers = new ConcurrentHashMap<>();
  /** Calls in order: ping, version, events, list, inspect:&lt;id&gt;. */
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<FakeStream> streams = new CopyOnWriteArrayList<>();
  /**
   * Run after list took its snapshot and before the answer is delivered: events emitted here
   * reach the watcher before the list does, as when something happens while listing.
   */
  volatile Runnable afterListSnapshot = () -> { };
  volatile boolean reachable = true;
  volatile boolean holdInspects;
  final LinkedBlockingQueue<HeldInspect> heldInspects = new LinkedBlockingQueue<>();

  /** An inspect waiting for the test. */
  record HeldInspect(String id, Promise<ContainerInfo> promise, Context context) {
    /** Answers with what the engine table says now. */
    void answer(FakeDockerEngine engine) {
      ContainerInfo info = engine.containers.get(id);
      context.runOnContext(v -> {
        if (info == null) {
          promise.fail(new NoSuchContainerException("GET /containers/" + id + "/json", id, "gone"));
        } else {
          promise.complete(info);
        }
      });
    }

    /** Answers with a given picture (e.g. a stale one). */
    void answer(ContainerInfo info) {
      context.runOnContext(v -> promise.complete(info));
    }
  }

  /** One /events stream. */
  final class FakeStream implements EventStream {
    final Context context;
    final Handler<DockerEvent> handler;
    final Handler<Throwable> endHandler;
    final Instant since;
    volatile boolean cancelled;

    FakeStream(Context context, Handler<DockerEvent> handler, Handler<Throwable> endHandler,
               Instant since) {
      this.context = context;
      this.handler = handler;
      this.endHandler = endHandler;
      this.since = since;
    }

    /** The engine reports an event (ignored by a cancelled stream, like a closed channel). */
    void emit(String action, String id) {
      ContainerInfo info = containers.get(id);
      DockerEvent event = new DockerEvent("container", action, id,
          info == null ? Map.of() : Map.of("name", info.name()), System.nanoTime());
      context.runOnContext(v -> {
        if (!cancelled) {
          handler.handle(event);
        }
      });
    }

    /** The stream breaks (SSH channel lost, engine restarted). */
    void breakWith(Throwable error) {
      context.runOnContext(v -> {
        if (!cancelled) {
          cancelled = true;
          endHandler.handle(error);
        }
      });
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public long malformedLines() {
      return 0;
    }

    @Override
    public long oversizedLines() {
      return 0;
    }
  }

  FakeStream stream() {
    return streams.get(streams.size() - 1);
  }

  /** Waits for the n-th (1-based) events stream to be opened. */
  FakeStream awaitStream(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (streams.size() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("events stream #" + n + " not opened within 10 s");
      }
      Thread.sleep(5);
    }
    return streams.get(n - 1);
  }

  HeldInspect nextHeldInspect() throws InterruptedException {
    HeldInspect held = heldInspects.poll(10, TimeUnit.SECONDS);
    if (held == null) {
      throw new AssertionError("no inspect within 10 s");
    }
    return held;
  }

  void put(ContainerInfo info) {
    containers.put(info.id(), info);
  }

  private <T> Future<T> unreachableOr(Future<T> answer) {
    return reachable ? answer : Future.failedFuture(
        new DockerEngineException("cannot reach the Docker engine: the SSH session is not connected"));
  }

  @Override
  public Future<Void> ping() {
    calls.add("ping");
    return unreachableOr(Future.succeededFuture());
  }

  @Override
  public Future<EngineVersion> version() {
    calls.add("version");
    ApiVersion api = new ApiVersion(1, 41);
    return unreachableOr(Future.succeededFuture(new EngineVersion("20.10.24", api,
        new ApiVersion(1, 12), "linux", "amd64", api, Instant.parse("2024-05-02T10:15:31Z"))));
  }

  @Override
  public Future<List<ContainerInfo>> listContainers() {
    calls.add("list");
    if (!reachable) {
      return unreachableOr(Future.succeededFuture());
    }
    List<ContainerInfo> running = new ArrayList<>();
    containers.values().stream()
        .filter(c -> c.isRunning() || ContainerInfo.PAUSED.equals(c.state()))
        .sorted((a, b) -> a.name().compareTo(b.name()))
        .forEach(running::add);
    afterListSnapshot.run();
    // Answer after whatever the hook queued on the context (like a reply over the network).
    Promise<List<ContainerInfo>> answer = Promise.promise();
    Vertx.currentContext().runOnContext(v -> answer.complete(running));
    return answer.future();
  }

  @Override
  public Future<ContainerInfo> inspect(String id) {
    calls.add("inspect:" + id);
    Promise<ContainerInfo> promise = Promise.promise();
    HeldInspect held = new HeldInspect(id, promise, Vertx.currentContext());
    if (holdInspects) {
      heldInspects.add(held);
    } else {
      held.answer(this);
    }
    return promise.future();
  }

  @Override
  public Future<EventStream> events(Set<String> types, Instant since, Handler<DockerEvent> handler,
                                    Handler<Throwable> endHandler) {
    calls.add("events");
    if (!reachable) {
      return unreachableOr(Future.succeededFuture());
    }
    FakeStream stream = new FakeStream(Vertx.currentContext(), handler, endHandler, since);
    streams.add(stream);
    return Future.succeededFuture(stream);
  }
}
