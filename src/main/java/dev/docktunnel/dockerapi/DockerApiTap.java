package dev.docktunnel.dockerapi;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.bus.DockerActivity;
import dev.docktunnel.bus.Facts;
import dev.docktunnel.forward.ConnectionTap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one local Docker socket connection through {@link HttpExchangeObserver}: each request
 * is a {@link DockerActivity} fact, long-lived responses are open streams while they last, and
 * the answer to a successful container start (restart, unpause) is held back from the client
 * until the watcher has inspected that container and its forwards are active or in conflict,
 * at most {@code docker.holdStart}. So {@code docker run -d -p 8080:80 img && curl
 * localhost:8080} finds the forward there. A create makes the watcher inspect at once, without
 * a hold. All calls come on the connection's Netty loop; bus answers hop back onto it.
 */
final class DockerApiTap implements ConnectionTap, HttpExchangeObserver.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(DockerApiTap.class);
  /** Bus answers come this long after the hold's own deadline at the latest. */
  private static final long BUS_MARGIN_MS = 1_000;
  /** A create's inspect holds nothing back: it may take as long as an engine call may. */
  private static final long CREATED_INSPECT_TIMEOUT_MS = 30_000;

  /** What every connection's tap shares. */
  record Settings(Vertx vertx, Duration holdStart, DockerCounters counters, Clock clock) {
  }

  private final Channel local;
  private final Runnable limitRaised;
  private final Settings settings;
  private final String connection;
  private final HttpExchangeObserver observer = new HttpExchangeObserver(this);
  /** Each outstanding request's classification, until its response ends. */
  private final Map<RequestHead, DockerPaths.Call> calls = new HashMap<>();
  /** Requests whose response is an open stream now, with their classification. */
  private final Map<RequestHead, DockerPaths.Call> openStreams = new HashMap<>();
  /** Reads the id from the answer to a create, while it passes. */
  private CreatedIdReader created;
  /** The stream offset up to which the client may be written; MAX_VALUE: no hold. */
  private long clientLimit = Long.MAX_VALUE;
  /** The request whose answer is held, or null. */
  private RequestHead holding;
  private boolean closed;
  /** The connection's first request's method: a refusal answers it. */
  private String firstMethod;

  DockerApiTap(Channel local, Runnable limitRaised, Settings settings) {
    this.local = local;
    this.limitRaised = limitRaised;
    this.settings = settings;
    this.connection = local.id().asShortText();
    // At once, before the connection enters the lifecycle's gate: an idle stop that counted the
    // entry has seen this fact (the socket's periodic status would come too late).
    Facts.publish(settings.vertx().eventBus(), Addresses.ACTIVITY_DOCKER, new DockerActivity(
        DockerActivity.Event.CONNECTION_OPENED, connection, null, null, null, settings.clock().instant()));
  }

  // ---- ConnectionTap (the connection's loop)

  @Override
  public void fromClient(ByteBuf bytes) {
    observer.fromClient(bytes);
  }

  @Override
  public void fromRemote(ByteBuf bytes) {
    observer.fromEngine(bytes);
  }

  @Override
  public long clientLimit() {
    return clientLimit;
  }

  /**
   * A 503 with the Docker API's error body, which the docker CLI prints as "Error response from
   * daemon: docktunnel: starting server failed: ..."; no body for a HEAD (the CLI's first ping).
   */
  @Override
  public ByteBuf refusal(ByteBufAllocator alloc, String why) {
    byte[] body = (new JsonObject().put("message", "docktunnel: " + why).encode() + "\n")
        .getBytes(StandardCharsets.UTF_8);
    boolean head = "HEAD".equals(firstMethod);
    String response = "HTTP/1.1 503 Service Unavailable\r\n"
        + "Content-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "Connection: close\r\n\r\n";
    ByteBuf answer = alloc.buffer(response.length() + body.length);
    answer.writeCharSequence(response, StandardCharsets.US_ASCII);
    if (!head) {
      answer.writeBytes(body);
    }
    return answer;
  }

  @Override
  public void closed() {
    closed = true;
    observer.engineClosed();
    for (RequestHead stream : Set.copyOf(openStreams.keySet())) {
      streamEnded(stream);
    }
  }

  // ---- HttpExchangeObserver.Listener

  @Override
  public void request(RequestHead head) {
    settings.counters().requests.increment();
    if (firstMethod == null) {
      firstMethod = head.method();
    }
    DockerPaths.Call call = DockerPaths.classify(head);
    calls.put(head, call);
    publish(DockerActivity.Event.REQUEST, head.method(), call);
    if (call.opensStream()) {
      openStreams.put(head, call);
      settings.counters().openStreams.incrementAndGet();
      publish(DockerActivity.Event.STREAM_OPENED, head.method(), call);
    }
  }

  @Override
  public void responseBegins(RequestHead request, long offset) {
    if (afterSuccess(request) == DockerPaths.AfterSuccess.HOLD_FOR_FORWARDS && holding == null) {
      // Not a byte of this answer may pass before its status says whether to hold it.
      holding = request;
      clientLimit = offset;
    }
  }

  @Override
  public void responseHead(RequestHead request, int status, long offset) {
    DockerPaths.Call call = calls.get(request);
    if (call == null || status < 200) {
      return; // an interim 100 Continue: the final answer decides
    }
    boolean succeeded = status < 300;
    if (request.equals(holding)) {
      if (succeeded && call.containerId() != null) {
        awaitForwards(request, call.containerId());
      } else {
        release(request); // a failed start: nothing to wait for
      }
    } else if (succeeded && call.afterSuccess() == DockerPaths.AfterSuccess.INSPECT_CREATED) {
      created = new CreatedIdReader();
    }
  }

  @Override
  public void responseBody(RequestHead request, ByteBuf buf, int index, int length) {
    if (created != null) {
      created.feed(buf, index, length);
    }
  }

  @Override
  public void responseComplete(RequestHead request) {
    ended(request);
    if (created != null) {
      String id;
      try {
        id = created.id();
      } catch (IllegalArgumentException e) {
        LOG.warn("docker socket connection {}: {} {}: {}; the watcher learns of the container from its events",
            connection, request.method(), request.target(), e.getMessage());
        return;
      } finally {
        created = null;
      }
      inspect(id, CREATED_INSPECT_TIMEOUT_MS).onFailure(e -> LOG.warn("docker socket connection {}: inspecting created container {} failed: {}",
          connection, id, e.getMessage()));
    }
  }

  @Override
  public void responseCut(RequestHead request, String why) {
    ended(request);
  }

  @Override
  public void rawStream(RequestHead request, String why) {
    // exec / attach: the stream (already counted as open) lasts until the connection ends.
  }

  @Override
  public void unparseable(HttpExchangeObserver.Direction direction, String why) {
    settings.counters().unparseable.increment();
    LOG.warn("docker socket connection {}: cannot follow the HTTP from the {} ({}); its bytes pass on unwatched",
        connection, direction.label(), why);
    if (holding != null) {
      release(holding);
    }
  }

  private DockerPaths.AfterSuccess afterSuccess(RequestHead request) {
    DockerPaths.Call call = calls.get(request);
    return call == null ? DockerPaths.AfterSuccess.NOTHING : call.afterSuccess();
  }

  /** The response to {@code request} is over (complete or cut): its stream, if any, ends. */
  private void ended(RequestHead request) {
    calls.remove(request);
    if (openStreams.containsKey(request)) {
      streamEnded(request);
    }
  }

  private Future<Message<JsonObject>> inspect(String container, long timeoutMs) {
    return settings.vertx().eventBus().request(Addresses.CONTAINERS_INSPECT,
        new JsonObject().put("container", container), new DeliveryOptions().setSendTimeout(timeoutMs));
  }

  // ---- holding a start's answer

  /**
   * Has the watcher inspect the container now (it may not have its start event yet), then asks
   * the forward verticle to answer once that container's forwards are settled; both within
   * {@code holdStart}. Whatever the outcome, the answer is then passed on.
   */
  private void awaitForwards(RequestHead request, String container) {
    Vertx vertx = settings.vertx();
    long deadline = settings.clock().millis() + settings.holdStart().toMillis();
    inspect(container, settings.holdStart().toMillis())
        .compose(inspected -> {
          JsonObject info = inspected.body().getJsonObject("container");
          if (info == null) {
            return Future.succeededFuture(null); // gone already: nothing to forward
          }
          long left = Math.max(1, deadline - settings.clock().millis());
          return vertx.eventBus().<JsonObject>request(Addresses.FORWARDS_SETTLED,
                  new JsonObject().put("containerId", info.getString("id")).put("timeoutMs", left),
                  new DeliveryOptions().setSendTimeout(left + BUS_MARGIN_MS))
              .map(Message::body);
        })
        .onComplete(answer -> local.eventLoop().execute(() -> {
          if (answer.failed()) {
            settings.counters().startHoldTimeouts.increment();
            LOG.warn("docker socket connection {}: {} {}: could not wait for the forwards of container {} ({});"
                + " answer passed on", connection, request.method(), request.target(), container,
                answer.cause().getMessage());
          } else if (answer.result() != null && !answer.result().getBoolean("settled", false)) {
            settings.counters().startHoldTimeouts.increment();
            LOG.warn("docker socket connection {}: container {} started, but its forwards were not active within "
                + "docker.holdStart ({} ms): {}; answer passed on", connection, container,
                settings.holdStart().toMillis(), describe(answer.result().getJsonArray("forwards")));
          }
          release(request);
        }));
  }

  private void release(RequestHead request) {
    if (!request.equals(holding)) {
      return;
    }
    holding = null;
    clientLimit = Long.MAX_VALUE;
    if (!closed) {
      limitRaised.run();
    }
  }

  private static String describe(JsonArray forwards) {
    StringBuilder text = new StringBuilder();
    for (Object f : forwards == null ? new JsonArray() : forwards) {
      if (f instanceof JsonObject forward) {
        text.append(text.length() == 0 ? "" : "; ").append("published port ")
            .append(forward.getValue("publishedPort")).append(' ').append(forward.getString("status"));
        if (forward.getString("reason") != null) {
          text.append(" (").append(forward.getString("reason")).append(')');
        }
      }
    }
    return text.length() == 0 ? "no forwards" : text.toString();
  }

  // ---- facts

  private void streamEnded(RequestHead request) {
    DockerPaths.Call call = openStreams.remove(request);
    settings.counters().openStreams.decrementAndGet();
    publish(DockerActivity.Event.STREAM_CLOSED, request.method(), call);
  }

  private void publish(DockerActivity.Event event, String method, DockerPaths.Call call) {
    Facts.publish(settings.vertx().eventBus(), Addresses.ACTIVITY_DOCKER, new DockerActivity(event, connection,
        method, call.template(), call.containerId(), settings.clock().instant()));
  }
}
