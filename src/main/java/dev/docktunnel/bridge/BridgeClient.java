package dev.docktunnel.bridge;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connected bridge client, whatever carries its frames (TCP or SockJS): reads its frames
 * through the {@link BridgePolicy}, delivers the facts it registered and answers its queries.
 *
 * <p>Every frame to the client goes through one bounded queue: the bytes handed to the {@link
 * Wire} whose write has not completed yet (taken by the OS). A frame that would take it over
 * {@link BridgeLimits#maxQueuedBytes()} means the client does not read; it is dropped (WARN,
 * counted) rather than buffered without bound, which is what the Vert.x TCP bridge module does (it
 * writes every message without looking at the write queue). A dropped subscriber reconnects and
 * takes a new snapshot: facts are never skipped silently.
 *
 * <p>Runs on one context (the connection's); not thread-safe.
 */
final class BridgeClient {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeClient.class);
  /** A client refused this often is broken or probing; it is closed rather than logged forever. */
  static final int MAX_REFUSED_FRAMES = 20;

  /** Carries frames to and from one client. */
  interface Wire {
    /** Writes one frame's JSON; the future completes once the OS took it. */
    Future<Void> write(Buffer json);

    /** The bytes {@link #write} costs in the queue for {@code json} (framing included). */
    default int cost(Buffer json) {
      return json.length();
    }

    /** Closes the connection (pending writes first). */
    void close();

    /**
     * Closes the connection at once, discarding what is queued: a graceful close of a client that
     * does not read would wait behind its queue for ever.
     */
    void abort();

    /** The client for log lines, e.g. {@code tcp client 127.0.0.1:41234}. */
    String name();
  }

  private final EventBus bus;
  private final Wire wire;
  private final BridgePolicy policy;
  private final BridgeLimits limits;
  private final BridgeCounters counters;
  private final boolean answersPing;
  private final Map<String, MessageConsumer<JsonObject>> registered = new HashMap<>();
  private long queuedBytes;
  private int queriesInFlight;
  private int refused;
  private boolean closed;

  /** @param answersPing whether a {@code ping} gets a {@code pong} (TCP does; SockJS clients expect none) */
  BridgeClient(EventBus bus, Wire wire, BridgePolicy policy, BridgeLimits limits, BridgeCounters counters,
      boolean answersPing) {
    this.bus = bus;
    this.wire = wire;
    this.policy = policy;
    this.limits = limits;
    this.counters = counters;
    this.answersPing = answersPing;
  }

  /** One inbound frame's payload (JSON text). */
  void onFrame(Buffer payload) {
    if (closed) {
      return;
    }
    JsonObject frame;
    try {
      frame = new JsonObject(payload);
    } catch (DecodeException | ClassCastException e) {
      counters.badFrames.incrementAndGet();
      LOG.warn("event bridge: closing {}: a frame of {} bytes is not a JSON object", wire.name(), payload.length());
      writeError("invalid_json", null, "a frame is not a JSON object");
      close();
      return;
    }
    Object type = frame.getValue("type");
    Object address = frame.getValue("address");
    Object replyAddress = frame.getValue("replyAddress");
    BridgePolicy.Verdict verdict = policy.decide(type instanceof String t ? t : null,
        address instanceof String a ? a : null, replyAddress instanceof String r ? r : null);
    switch (verdict.action()) {
      case PING -> {
        if (answersPing) {
          write(new JsonObject().put("type", "pong"));
        }
      }
      case REGISTER -> register((String) address);
      case UNREGISTER -> unregister((String) address);
      case QUERY -> query((String) address, (String) replyAddress, frame.getValue("body"));
      case REFUSE -> refuse(verdict, address instanceof String a ? a : null);
    }
  }

  /** The connection ended: its consumers go. Idempotent. */
  void closed() {
    closed = true;
    registered.values().forEach(MessageConsumer::unregister);
    registered.clear();
  }

  /** Bytes queued to the client and not yet taken by the OS. */
  long queuedBytes() {
    return queuedBytes;
  }

  private void register(String address) {
    if (registered.containsKey(address)) {
      return; // idempotent: a second register changes nothing
    }
    MessageConsumer<JsonObject> consumer = bus.consumer(address, message -> {
      if (!closed) {
        write(new JsonObject().put("type", "message").put("address", address).put("send", false)
            .put("body", message.body()));
      }
    });
    if (consumer instanceof MessageConsumerImpl<JsonObject> impl) {
      // Facts still queued for a client that went away are dropped with it, as expected; without
      // a discard handler Vert.x logs a WARN for each (hundreds for a dropped slow subscriber).
      impl.discardHandler(discarded -> { });
    }
    registered.put(address, consumer);
    LOG.debug("event bridge: {} registered {}", wire.name(), address);
  }

  private void unregister(String address) {
    MessageConsumer<JsonObject> consumer = registered.remove(address);
    if (consumer == null) {
      refuse(new BridgePolicy.Verdict(BridgePolicy.Action.REFUSE, "unknown_address",
          "'" + address + "' is not registered on this connection"), address);
      return;
    }
    consumer.unregister();
  }

  private void query(String address, String replyAddress, Object body) {
    if (body != null && !(body instanceof JsonObject)) {
      refuse(BridgePolicy.Verdict.refuse("invalid_body", "the body of a query must be a JSON object or absent"),
          address);
      return;
    }
    if (queriesInFlight >= limits.maxQueriesInFlight()) {
      counters.failedQueries.incrementAndGet();
      refuse(BridgePolicy.Verdict.refuse("too_many_queries", "already " + queriesInFlight
          + " queries unanswered on this connection (limit " + limits.maxQueriesInFlight() + ")"), address);
      return;
    }
    queriesInFlight++;
    JsonObject question = body == null ? new JsonObject() : ((JsonObject) body).copy();
    bus.<Object>request(address, question, new DeliveryOptions().setSendTimeout(limits.queryTimeout().toMillis()))
        .onComplete(answer -> {
          queriesInFlight--;
          if (closed) {
            return;
          }
          if (answer.succeeded()) {
            write(new JsonObject().put("type", "message").put("address", replyAddress).put("send", true)
                .put("body", answer.result().body()));
            return;
          }
          counters.failedQueries.incrementAndGet();
          Throwable cause = answer.cause();
          LOG.warn("event bridge: query {} from {} failed: {}", address, wire.name(), cause.getMessage());
          JsonObject error = new JsonObject().put("type", "err").put("address", replyAddress)
              .put("sourceAddress", address).put("message", String.valueOf(cause.getMessage()));
          if (cause instanceof ReplyException reply) {
            error.put("failureCode", reply.failureCode()).put("failureType", reply.failureType().name());
          }
          write(error);
        });
  }

  private void refuse(BridgePolicy.Verdict verdict, String address) {
    counters.refusedFrames.incrementAndGet();
    refused++;
    LOG.warn("event bridge: refused a frame from {}: {}", wire.name(), verdict.reason());
    writeError(verdict.code(), address, verdict.reason());
    if (refused >= MAX_REFUSED_FRAMES) {
      LOG.warn("event bridge: closing {}: {} frames refused", wire.name(), refused);
      close();
    }
  }

  private void writeError(String code, String address, String reason) {
    JsonObject error = new JsonObject().put("type", "err").put("message", code).put("reason", reason);
    if (address != null) {
      error.put("address", address);
    }
    write(error);
  }

  private void write(JsonObject frame) {
    if (closed) {
      return;
    }
    Buffer json = frame.toBuffer();
    int cost = wire.cost(json);
    if (queuedBytes + cost > limits.maxQueuedBytes()) {
      long drops = counters.slowClientsDropped.incrementAndGet();
      LOG.warn("event bridge: dropping {}: it does not read; {} bytes queued unsent (limit {}); {} slow "
          + "client(s) dropped so far", wire.name(), queuedBytes, limits.maxQueuedBytes(), drops);
      closed();
      wire.abort();
      return;
    }
    queuedBytes += cost;
    wire.write(json).onComplete(done -> queuedBytes -= cost);
  }

  private void close() {
    closed();
    wire.close();
  }
}
