package dev.docktunnel.cli;

import dev.docktunnel.http.ApiToken;
import dev.docktunnel.http.HttpApiVerticle;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A client of a running daemon's HTTP API on 127.0.0.1 (the port its state file records), with
 * short timeouts: a daemon that does not answer within them is treated as not answering, and
 * the caller falls back to the state file (status) or a signal (stop).
 */
final class DaemonClient {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);
  /**
   * The lifecycle's requests ({@code extend}, {@code server}): above the API's own bound on the
   * lifecycle's answer (5 s), so its 503 with the reason arrives rather than our timeout.
   */
  static final Duration LIFECYCLE_TIMEOUT = Duration.ofSeconds(8);

  /** The daemon answered, but not 200: its status code and the message of its JSON error. */
  static final class ErrorAnswer extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    ErrorAnswer(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade: the API speaks HTTP/1.1
      .connectTimeout(CONNECT_TIMEOUT)
      .followRedirects(HttpClient.Redirect.NEVER)
      .build();

  /**
   * {@code GET /status}: the daemon's status document.
   *
   * @throws IOException naming the URL and what went wrong (refused, timeout, not 200, not JSON)
   */
  JsonObject status(int port) throws IOException, InterruptedException {
    URI uri = uri(port, "/status");
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build(), uri);
    if (response.statusCode() != 200) {
      throw new IOException(uri + " answered " + response.statusCode() + " " + brief(response.body()));
    }
    try {
      return new JsonObject(response.body());
    } catch (RuntimeException e) {
      throw new IOException(uri + " answered something that is not a JSON object: " + brief(response.body()), e);
    }
  }

  /**
   * {@code POST /stop} with the install's token.
   *
   * @return the HTTP status code (202: the daemon is stopping)
   * @throws IOException naming the URL, when no answer came
   */
  int requestStop(int port, ApiToken token) throws IOException, InterruptedException {
    URI uri = uri(port, "/stop");
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + token.text())
        .POST(HttpRequest.BodyPublishers.noBody()).build();
    return send(request, uri).statusCode();
  }

  /**
   * A lifecycle request: {@code POST /lifecycle/extend}, {@code POST /server/start} or
   * {@code POST /server/stop} with the install's token, or {@code GET /server}.
   *
   * @param token the install's token; null for a GET, which needs none
   * @param body the JSON body of a POST, or null for none
   * @return the daemon's JSON answer (200)
   * @throws ErrorAnswer when it answered another code, with its {@code error} message
   * @throws IOException naming the URL, when no answer came or it is not JSON
   */
  JsonObject lifecycle(int port, ApiToken token, String method, String path, JsonObject body)
      throws IOException, InterruptedException {
    URI uri = uri(port, path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(LIFECYCLE_TIMEOUT);
    if (token != null) {
      request.header("Authorization", "Bearer " + token.text());
    }
    if (method.equals("GET")) {
      request.GET();
    } else {
      request.header("Content-Type", "application/json").method(method, body == null
          ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    }
    HttpResponse<String> response = send(request.build(), uri);
    JsonObject answer;
    try {
      answer = new JsonObject(response.body());
    } catch (RuntimeException e) {
      throw new IOException(uri + " answered " + response.statusCode() + " with something that is not a JSON object: "
          + brief(response.body()), e);
    }
    if (response.statusCode() != 200) {
      Object error = answer.getValue("error");
      throw new ErrorAnswer(response.statusCode(), error instanceof String text ? text : brief(response.body()));
    }
    return answer;
  }

  static URI uri(int port, String path) {
    return URI.create("http://" + HttpApiVerticle.ADDRESS + ":" + port + path);
  }

  private HttpResponse<String> send(HttpRequest request, URI uri) throws IOException, InterruptedException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException(uri + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
    }
  }

  private static String brief(String body) {
    String line = body == null ? "" : body.strip().replace('\n', ' ');
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
