package dev.docktunnel.lifecycle;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The few Hetzner Cloud API calls the provider makes, through Vert.x WebClient: JSON in and out,
 * the token as a Bearer header, every request bounded by a timeout, error answers turned into one
 * {@link HetznerApiException} line with Hetzner's code and message, and actions polled until they
 * end (bounded). Stateless apart from the client; safe from any context.
 */
final class HetznerApi {

  private final Vertx vertx;
  private final WebClient client;
  private final String baseUrl;
  private final Duration requestTimeout;
  private final Duration pollInterval;
  private final Supplier<Future<HetznerToken>> tokenReader;
  /** The token of the current operation; read again by {@link #readToken()} at each one's start. */
  private volatile Future<HetznerToken> token =
      Future.failedFuture(new HetznerApiException("Hetzner API: no token read yet"));

  HetznerApi(Vertx vertx, String baseUrl, Duration requestTimeout, Duration pollInterval,
      Supplier<Future<HetznerToken>> tokenReader) {
    this.vertx = vertx;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.requestTimeout = requestTimeout;
    this.pollInterval = pollInterval;
    this.tokenReader = tokenReader;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setUserAgent("docktunnel")
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, requestTimeout.toMillis())));
  }

  void close() {
    client.close();
  }

  /** Reads the token (a rotated file is picked up); the calls after it use it. */
  Future<Void> readToken() {
    Future<HetznerToken> read = tokenReader.get();
    token = read;
    return read.mapEmpty();
  }

  Future<JsonObject> get(String path, Map<String, String> query) {
    return call(HttpMethod.GET, path, query, null);
  }

  Future<JsonObject> post(String path, JsonObject body) {
    return call(HttpMethod.POST, path, Map.of(), body);
  }

  Future<JsonObject> delete(String path) {
    return call(HttpMethod.DELETE, path, Map.of(), null);
  }

  private Future<JsonObject> call(HttpMethod method, String path, Map<String, String> query, JsonObject body) {
    String what = method.name() + " " + path;
    return token.compose(t -> {
      HttpRequest<Buffer> request = client.requestAbs(method, baseUrl + path)
          .bearerTokenAuthentication(t.value())
          .putHeader("Accept", "application/json")
          .timeout(requestTimeout.toMillis());
      query.forEach(request::addQueryParam);
      Future<HttpResponse<Buffer>> sent = body == null ? request.send() : request.sendJsonObject(body);
      return sent.recover(cause -> Future.failedFuture(new HetznerApiException("Hetzner API " + what
              + " to " + baseUrl + " got no answer: " + oneLine(cause))))
          .compose(response -> answer(what, t, response));
    });
  }

  private static Future<JsonObject> answer(String what, HetznerToken token, HttpResponse<Buffer> response) {
    int status = response.statusCode();
    Buffer body = response.body();
    JsonObject json = null;
    if (body != null && body.length() > 0) {
      try {
        json = new JsonObject(body);
      } catch (DecodeException | ClassCastException e) {
        json = null;
      }
    }
    if (status >= 200 && status < 300) {
      if (json == null && body != null && body.length() > 0) {
        return Future.failedFuture(new HetznerApiException("Hetzner API " + what + ": answer " + status
            + " is not a JSON object", status, null));
      }
      return Future.succeededFuture(json == null ? new JsonObject() : json);
    }
    JsonObject error = json == null ? null : json.getJsonObject("error");
    String code = error == null ? null : error.getString("code");
    String message = error == null ? null : error.getString("message");
    StringBuilder line = new StringBuilder("Hetzner API ").append(what).append(": ").append(status);
    if (code != null) {
      line.append(' ').append(code);
    }
    if (message != null) {
      line.append(": ").append(oneLine(message));
    }
    if (error == null) {
      String text = body == null ? "" : body.toString();
      line.append(" (no error object").append(text.isBlank() ? "" : ": " + abbreviate(oneLine(text), 200))
          .append(')');
    }
    if (status == 401) {
      line.append(" (check the API token in ").append(token.source())
          .append(": it must be a valid Read & Write token of the server's project)");
    } else if (status == 403 && "token_readonly".equals(code)) {
      line.append(" (the token in ").append(token.source()).append(" is read-only; create a Read & Write one)");
    }
    return Future.failedFuture(new HetznerApiException(line.toString(), status, code));
  }

  /**
   * Polls {@code GET /actions/{id}} every poll interval until the action is {@code success}
   * (succeeds with the final action) or {@code error} (fails with the action's code and message),
   * failing when it is still running at {@code deadlineNanos} ({@link System#nanoTime()}).
   */
  Future<JsonObject> awaitAction(JsonObject action, long deadlineNanos) {
    Promise<JsonObject> done = Promise.promise();
    checkAction(action, deadlineNanos, done);
    return done.future();
  }

  private void checkAction(JsonObject action, long deadlineNanos, Promise<JsonObject> done) {
    if (action == null) {
      done.fail(new HetznerApiException("Hetzner API: an answer had no action to follow"));
      return;
    }
    String status = action.getString("status");
    String command = action.getString("command", "?");
    Long id = action.getLong("id");
    if ("success".equals(status)) {
      done.complete(action);
      return;
    }
    if ("error".equals(status)) {
      JsonObject error = action.getJsonObject("error");
      String code = error == null ? "unknown" : error.getString("code", "unknown");
      String message = error == null ? "no message" : error.getString("message", "no message");
      done.fail(new HetznerApiException("Hetzner action " + command + " (id " + id + ") failed: " + code + ": "
          + oneLine(message), 0, code));
      return;
    }
    if (!"running".equals(status)) {
      done.fail(new HetznerApiException("Hetzner action " + command + " (id " + id + ") has an unknown status "
          + status));
      return;
    }
    if (System.nanoTime() - deadlineNanos >= 0) {
      done.fail(new HetznerApiException("Hetzner action " + command + " (id " + id
          + ") still running at the deadline (progress " + action.getValue("progress") + "%)", 0, "timeout"));
      return;
    }
    vertx.setTimer(Math.max(1, pollInterval.toMillis()), timer -> get("/actions/" + id, Map.of())
        .onSuccess(answer -> checkAction(answer.getJsonObject("action"), deadlineNanos, done))
        .onFailure(done::fail));
  }

  /** Waits a poll interval (for polls of something other than an action). */
  Future<Void> pause() {
    Promise<Void> paused = Promise.promise();
    vertx.setTimer(Math.max(1, pollInterval.toMillis()), timer -> paused.complete());
    return paused.future();
  }

  static String oneLine(Throwable cause) {
    String message = cause.getMessage();
    return oneLine(message == null ? cause.getClass().getSimpleName() : message);
  }

  static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
  }

  private static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
