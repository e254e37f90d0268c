package dev.docktunnel.docker;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The part of the Docker Engine API docktunnel uses. All futures complete, and all handlers run,
 * on the Vert.x context that made the call. {@link DockerEngineClient} is the implementation
 * over the SSH session; the container watcher depends only on this interface.
 */
public interface DockerEngine {

  /** {@code GET /_ping}: succeeds when the engine answers {@code OK}. */
  Future<Void> ping();

  /**
   * {@code GET /version}, and negotiates the API version for later calls: the smaller of the
   * engine's {@code ApiVersion} and the newest we support, provided it is neither below the
   * engine's {@code MinAPIVersion} nor below the oldest we support; otherwise the future fails
   * with a {@link DockerEngineException} naming both ranges.
   */
  Future<EngineVersion> version();

  /** {@code GET /containers/json}: the running (and paused) containers. */
  Future<List<ContainerInfo>> listContainers();

  /**
   * {@code GET /containers/{id}/json}.
   *
   * @return the container; fails with {@link NoSuchContainerException} when it does not exist
   */
  Future<ContainerInfo> inspect(String id);

  /**
   * {@code GET /events} filtered to {@code types} (e.g. {@code container}), streamed: one
   * {@code handler} call per event, in engine order. Malformed lines and lines over 1 MiB are
   * skipped, counted and logged; the stream goes on.
   *
   * @param types      event types to receive; empty means all
   * @param since      when not null, the engine first replays the events it still holds from
   *                   this engine time on (closes the gap between an earlier call and this one)
   * @param handler    receives each event
   * @param endHandler called once when the stream ends: with null when the engine ended it,
   *                   with the error when it broke; not called after {@link EventStream#cancel()}
   * @return completes once the engine accepted the request (HTTP 200 and headers received)
   */
  Future<EventStream> events(Set<String> types, Instant since, Handler<DockerEvent> handler,
                             Handler<Throwable> endHandler);

  /** {@link #events(Set, Instant, Handler, Handler)} with live events only. */
  default Future<EventStream> events(Set<String> types, Handler<DockerEvent> handler,
                                     Handler<Throwable> endHandler) {
    return events(types, null, handler, endHandler);
  }
}
