package dev.docktunnel.docker;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP request and its response over one {@link EngineConnection}: write the request, then
 * read until the response is complete (or fails), parsing with {@link EngineHttpCodec}; the
 * connection is closed at the end either way. Reads are issued one at a time, so a slow consumer
 * slows the engine down through the SSH window instead of filling memory. All callbacks run on
 * the connection's context.
 *
 * <p>Two modes: {@link #fetch buffered} (the whole body, up to a limit) and {@link #stream
 * streaming} (head first, then body pieces to a handler until the end or {@link #cancel()}).
 */
final class EngineExchange {
  private static final Logger LOG = LoggerFactory.getLogger(EngineExchange.class);
  /** Error bodies are short JSON; more than this is not worth keeping. */
  static final int MAX_ERROR_BODY = 64 * 1024;

  /** Status, headers and (buffered mode, or any error status) the body. */
  record Response(int status, HttpHeaders headers, Buffer body) {
    boolean isSuccess() {
      return status >= 200 && status < 300;
    }
  }

  private final Vertx vertx;
  private final EngineConnection connection;
  private final EngineHttpCodec codec = new EngineHttpCodec();
  private final String what;
  private final long maxBody;
  private final Handler<Buffer> streamHandler;
  private final Handler<Throwable> streamEndHandler;
  private final Promise<Response> response = Promise.promise();
  private EngineHttpCodec.Head head;
  private Buffer body = Buffer.buffer();
  /** True once a streaming exchange delivered its 2xx head: body pieces go to the handler. */
  private boolean streamingBody;
  private boolean finished;
  private long timer = -1;

  private EngineExchange(Vertx vertx, EngineConnection connection, String what, long maxBody,
                         Handler<Buffer> streamHandler, Handler<Throwable> streamEndHandler) {
    this.vertx = vertx;
    this.connection = connection;
    this.what = what;
    this.maxBody = maxBody;
    this.streamHandler = streamHandler;
    this.streamEndHandler = streamEndHandler;
  }

  /**
   * Sends {@code method uri} and buffers the whole response.
   *
   * @param maxBody a body larger than this fails the exchange (bounded memory)
   * @param timeout for the exchange once the channel is open (opening has its own timeout)
   */
  static Future<Response> fetch(Vertx vertx, EngineConnector connector, HttpMethod method,
                                String uri, long maxBody, Duration timeout) {
    String what = method + " " + uri;
    return connector.connect().compose(connection ->
        new EngineExchange(vertx, connection, what, maxBody, null, null)
            .start(method, uri, timeout)
            .map(EngineExchange::response));
  }

  /**
   * Sends {@code GET uri} and completes once the head arrived. For a 2xx answer the body then
   * streams to {@code bodyHandler} and ends with one {@code endHandler} call (null: the engine
   * ended the response; else the error). For any other status the (short) body is buffered
   * first, the exchange is over, and no handler is called.
   *
   * @param headTimeout how long to wait for the head once the channel is open
   */
  static Future<EngineExchange> stream(Vertx vertx, EngineConnector connector, String uri,
                                       Duration headTimeout, Handler<Buffer> bodyHandler,
                                       Handler<Throwable> endHandler) {
    String what = "GET " + uri;
    return connector.connect().compose(connection ->
        new EngineExchange(vertx, connection, what, MAX_ERROR_BODY, bodyHandler, endHandler)
            .start(HttpMethod.GET, uri, headTimeout));
  }

  /** The response: the full one in buffered mode, the head (empty body) for a 2xx stream. */
  Response response() {
    return response.future().result();
  }

  /** Ends a streaming exchange without calling its handlers; closes the connection. */
  void cancel() {
    if (!finished) {
      finished = true;
      cleanUp();
    }
  }

  private Future<EngineExchange> start(HttpMethod method, String uri, Duration timeout) {
    timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
      timer = -1;
      fail(new DockerEngineException("no answer from the Docker engine to " + what + " within "
          + timeout.toMillis() + " ms"));
    });
    Buffer request;
    try {
      request = codec.encodeRequest(method, uri);
    } catch (RuntimeException e) {
      fail(new DockerEngineException("cannot encode " + what + ": " + e.getMessage(), e));
      return response.future().map(this);
    }
    connection.write(request).onComplete(written -> {
      if (written.failed()) {
        fail(written.cause());
      } else if (!finished) {
        readNext();
      }
    });
    return response.future().map(this);
  }

  private void readNext() {
    connection.read().onComplete(read -> {
      if (finished) {
        return;
      }
      try {
        if (read.failed()) {
          throw read.cause();
        }
        List<EngineHttpCodec.Part> parts =
            read.result() == null ? codec.endOfInput() : codec.decode(read.result());
        for (EngineHttpCodec.Part part : parts) {
          handle(part);
        }
      } catch (Throwable e) {
        fail(e);
        return;
      }
      if (!finished) {
        readNext();
      }
    });
  }

  private void handle(EngineHttpCodec.Part part) {
    if (finished) {
      return;
    }
    if (part instanceof EngineHttpCodec.Head h) {
      head = h;
      if (streamHandler != null && isSuccess(h.status())) {
        streamingBody = true;
        cancelTimer(); // the head arrived in time; a stream has no end deadline
        response.complete(new Response(h.status(), h.headers(), Buffer.buffer()));
      }
    } else if (part instanceof EngineHttpCodec.Body b) {
      if (streamingBody) {
        try {
          streamHandler.handle(b.bytes());
        } catch (RuntimeException e) {
          LOG.error("event stream handler failed on {}; the stream goes on", what, e);
        }
      } else {
        if (body.length() + (long) b.bytes().length() > maxBody) {
          throw new DockerEngineException("the engine's answer to " + what + " exceeds "
              + describeSize(maxBody) + "; refusing to buffer more");
        }
        body.appendBuffer(b.bytes());
      }
    } else if (part instanceof EngineHttpCodec.End) {
      finished = true;
      cleanUp();
      if (streamingBody) {
        streamEndHandler.handle(null);
      } else {
        response.complete(new Response(head.status(), head.headers(), body));
      }
    }
  }

  private void fail(Throwable error) {
    if (finished) {
      return;
    }
    finished = true;
    cleanUp();
    if (streamingBody) {
      streamEndHandler.handle(error);
    } else {
      response.tryFail(error);
    }
  }

  private void cleanUp() {
    cancelTimer();
    codec.close();
    connection.close();
  }

  private void cancelTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private static boolean isSuccess(int status) {
    return status >= 200 && status < 300;
  }

  static String describeSize(long bytes) {
    return bytes % (1024 * 1024) == 0 ? bytes / (1024 * 1024) + " MiB" : bytes + " bytes";
  }
}
