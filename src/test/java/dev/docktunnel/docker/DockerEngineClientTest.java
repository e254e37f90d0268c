package dev.docktunnel.docker;

import static dev.docktunnel.docker.ScriptedConnector.chunk;
import static dev.docktunnel.docker.ScriptedConnector.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.docker.ScriptedConnector.Reply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class DockerEngineClientTest {
  OnContext calls() {
    return new OnContext(context, Duration.ofSeconds(10));
  }

  static final String VERSION_141 = "{\"Platform\":{\"Name\":\"Docker Engine - Community\"},"
      + "\"Components\":[{\"Name\":\"Engine\",\"Version\":\"20.10.24+dfsg1\"}],"
      + "\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\","
      + "\"GitCommit\":\"5d6db84\",\"GoVersion\":\"go1.19.8\",\"Os\":\"linux\",\"Arch\":\"amd64\","
      + "\"KernelVersion\":\"6.1.0-18-amd64\",\"BuildTime\":\"2023-05-18T16:30:37.000000000+00:00\"}";
  static final String DATE = "Date: Thu, 02 May 2024 10:15:31 GMT";
  static final String EVENTS_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      + "Server: Docker/20.10.24+dfsg1 (linux)\r\n" + DATE + "\r\nTransfer-Encoding: chunked\r\n\r\n";

  Vertx vertx;
  Context context;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
  }



  ScriptedConnector engine(Function<String, Reply> script) {
    return new ScriptedConnector(vertx, script);
  }

  DockerEngineClient client(ScriptedConnector engine) {
    return new DockerEngineClient(vertx, engine, Duration.ofSeconds(5));
  }

  static Reply version(String json) {
    return Reply.of(response(200, json, "Api-Version: 1.41", DATE));
  }

  @Test
  void versionNegotiatesTheEnginesApiAndLaterPathsUseIt() throws Exception {
    ScriptedConnector engine = engine(line -> line.startsWith("GET /version ")
        ? version(VERSION_141) : Reply.of(response(200, "[]")));
    DockerEngineClient client = client(engine);

    EngineVersion v = calls().await(client::version);
    assertEquals("20.10.24+dfsg1", v.version());
    assertEquals(new ApiVersion(1, 41), v.apiVersion());
    assertEquals(new ApiVersion(1, 12), v.minApiVersion());
    assertEquals(new ApiVersion(1, 41), v.negotiated());
    assertEquals("linux", v.os());
    assertEquals(Instant.parse("2024-05-02T10:15:31Z"), v.serverTime());
    assertEquals(List.of(), calls().await(client::listContainers));
    assertEquals(List.of("GET /version HTTP/1.1", "GET /v1.41/containers/json HTTP/1.1"),
        engine.requestLines());
    assertTrue(engine.connections.stream().allMatch(c -> c.closed), "one channel per request");
  }

  @Test
  void aNewerEngineIsAddressedWithOurNewestVersion() throws Exception {
    DockerEngineClient client = client(engine(line -> version(
        "{\"Version\":\"28.2.2\",\"ApiVersion\":\"1.50\",\"MinAPIVersion\":\"1.24\"}")));
    assertEquals(DockerEngineClient.MAX_API, calls().await(client::version).negotiated());
    assertEquals(DockerEngineClient.MAX_API, client.negotiatedApiVersion().orElseThrow());
  }

  @Test
  void incompatibleEnginesFailClearly() throws Exception {
    Throwable tooNew = calls().failure(client(engine(line -> version(
        "{\"Version\":\"99.0\",\"ApiVersion\":\"1.70\",\"MinAPIVersion\":\"1.60\"}")))::version);
    assertInstanceOf(DockerEngineException.class, tooNew);
    assertTrue(tooNew.getMessage().contains("1.60 to 1.70") && tooNew.getMessage()
        .contains("upgrade docktunnel"), tooNew.getMessage());

    Throwable tooOld = calls().failure(client(engine(line -> version(
        "{\"Version\":\"1.9.1\",\"ApiVersion\":\"1.21\",\"MinAPIVersion\":\"1.12\"}")))::version);
    assertTrue(tooOld.getMessage().contains("upgrade Docker"), tooOld.getMessage());

    Throwable garbled = calls().failure(client(engine(line -> version("{\"ApiVersion\":\"one\"}")))::version);
    assertTrue(garbled.getMessage().contains("unreadable API version"), garbled.getMessage());
  }

  @Test
  void listNegotiatesFirstAndParsesAChunkedBodyInOddPieces() throws Exception {
    String body = new io.vertx.core.json.JsonArray(ContainerInfoTest.resource("list.json")).encode();
    String chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n"
        + chunk(body.substring(0, 100)) + chunk(body.substring(100, 101)) + chunk(body.substring(101))
        + "0\r\n\r\n";
    ScriptedConnector engine = engine(line -> line.startsWith("GET /version ")
        ? version(VERSION_141) : Reply.split(chunked, 1, 2, 3, 7, 64, 500));

    List<ContainerInfo> list = calls().await(client(engine)::listContainers);
    assertEquals(List.of("web", "db", "echo"), list.stream().map(ContainerInfo::name).toList());
    assertEquals(List.of("GET /version HTTP/1.1", "GET /v1.41/containers/json HTTP/1.1"),
        engine.requestLines());
  }

  @Test
  void inspectParsesAndA404IsNoSuchContainer() throws Exception {
    String inspect = ContainerInfoTest.resource("inspect-running.json");
    ScriptedConnector engine = engine(line -> {
      if (line.startsWith("GET /version ")) {
        return version(VERSION_141);
      }
      if (line.startsWith("GET /v1.41/containers/web/json ")) {
        return Reply.split(response(200, inspect), 1000);
      }
      if (line.startsWith("GET /v1.41/containers/broken/json ")) {
        return Reply.of(response(500, "{\"message\":\"ouch: database is locked\"}\n"));
      }
      return Reply.of(response(404, "{\"message\":\"No such container: gone\"}\n"));
    });
    DockerEngineClient client = client(engine);

    ContainerInfo web = calls().await(() -> client.inspect("web"));
    assertEquals("web", web.name());
    assertEquals(3, web.ports().size());

    Throwable gone = calls().failure(() -> client.inspect("gone"));
    NoSuchContainerException noSuch = assertInstanceOf(NoSuchContainerException.class, gone);
    assertEquals("gone", noSuch.containerId());
    assertEquals("No such container: gone", noSuch.engineMessage());

    Throwable broken = calls().failure(() -> client.inspect("broken"));
    DockerApiException api = assertInstanceOf(DockerApiException.class, broken);
    assertFalse(api instanceof NoSuchContainerException);
    assertEquals(500, api.status());
    assertEquals("ouch: database is locked", api.engineMessage());
    assertTrue(api.getMessage().contains("HTTP 500"), api.getMessage());

    int before = engine.connections.size();
    assertInstanceOf(IllegalArgumentException.class, calls().failure(() -> client.inspect("../../images")));
    assertEquals(before, engine.connections.size(), "no request for a bad id");
  }

  @Test
  void pingReadsOkEvenByteByByte() throws Exception {
    ScriptedConnector engine = engine(line -> Reply.split(response(200, "OK",
        "Api-Version: 1.41", "Cache-Control: no-cache, no-store, must-revalidate"), 1));
    calls().await(client(engine)::ping);
    assertEquals(List.of("GET /_ping HTTP/1.1"), engine.requestLines());

    Throwable notOk = calls().failure(client(engine(line -> Reply.of(response(200, "nope"))))::ping);
    assertTrue(notOk.getMessage().contains("instead of OK"), notOk.getMessage());
  }

  @Test
  void aBodyOverTheLimitFailsWithoutBeingBuffered() throws Exception {
    long size = DockerEngineClient.MAX_BODY_BYTES + 1024 * 1024;
    ScriptedConnector engine = engine(line -> {
      Reply r = Reply.of("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + size + "\r\n\r\n");
      Buffer piece = Buffer.buffer(new byte[64 * 1024]);
      long[] sent = {0};
      r.generator = () -> {
        if (sent[0] >= size) {
          return null;
        }
        sent[0] += piece.length();
        return piece;
      };
      return r;
    });
    DockerEngineClient client = client(engine);

    Throwable tooBig = calls().failure(client::ping);
    assertTrue(tooBig.getMessage().contains("exceeds 16 MiB"), tooBig.getMessage());
    assertTrue(engine.last().closed);
  }

  @Test
  void noAnswerTimesOutAndClosesTheChannel() throws Exception {
    ScriptedConnector engine = engine(line -> new Reply().keepOpen());
    DockerEngineClient client = new DockerEngineClient(vertx, engine, Duration.ofMillis(200));
    Throwable slow = calls().failure(client::ping);
    assertTrue(slow.getMessage().contains("no answer from the Docker engine to GET /_ping within"),
        slow.getMessage());
    assertTrue(engine.last().closed);
  }

  @Test
  void garbageFromTheSocketIsAProtocolError() throws Exception {
    Throwable garbage = calls().failure(client(engine(line ->
        Reply.of("SSH-2.0-OpenSSH_9.2\r\n\r\n")))::ping);
    assertInstanceOf(DockerEngineException.class, garbage);
    assertTrue(garbage.getMessage().contains("malformed HTTP response"), garbage.getMessage());

    Throwable cut = calls().failure(client(engine(line -> Reply.of("HTTP/1.1 200 OK\r\nContent-Len")))::ping);
    assertTrue(cut.getMessage().contains("before the response was complete"), cut.getMessage());
  }

  /** Collects what an events stream delivers. */
  static final class Collected {
    final List<DockerEvent> events = new CopyOnWriteArrayList<>();
    final CompletableFuture<Throwable> end = new CompletableFuture<>();
    final CompletableFuture<Void> endedCleanly = new CompletableFuture<>();

    void end(Throwable error) {
      end.complete(error);
      if (error == null) {
        endedCleanly.complete(null);
      }
    }

    List<String> actions() {
      return events.stream().map(DockerEvent::action).toList();
    }
  }

  static void waitFor(Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(5);
    }
  }

  ScriptedConnector eventsEngine() {
    return engine(line -> line.startsWith("GET /version ") ? version(VERSION_141)
        : Reply.of(EVENTS_HEAD).keepOpen());
  }

  @Test
  void eventsStreamReassemblesLinesAcrossChunksAndSkipsBadOnes() throws Exception {
    ScriptedConnector engine = eventsEngine();
    DockerEngineClient client = client(engine);
    Collected got = new Collected();

    EventStream stream = calls().await(() -> client.events(Set.of("container"),
        Instant.ofEpochSecond(1714644931), got.events::add, got::end));
    String requestLine = engine.last().requestLine();
    assertEquals("GET /v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D"
        + "&since=1714644931 HTTP/1.1", requestLine);

    String start = EventStreamParserTest.START + "\n";
    String die = EventStreamParserTest.DIE + "\n";
    ScriptedConnector.Conn conn = engine.last();
    // A line split over three chunks, which themselves arrive split over reads.
    conn.push(chunk(start.substring(0, 10)) + chunk(start.substring(10, 50)).substring(0, 7));
    conn.push(chunk(start.substring(10, 50)).substring(7) + chunk(start.substring(50)));
    // Several lines in one chunk, one malformed, one oversized.
    conn.push(chunk(die + "{garbage\n" + start));
    conn.push(chunk("{\"pad\":\"" + "z".repeat(EventStreamParser.MAX_LINE_BYTES) + "\"}\n"));
    conn.push(chunk(die));
    waitFor(() -> got.events.size() == 4);
    assertEquals(List.of("start", "die", "start", "die"), got.actions());
    assertEquals(1, stream.malformedLines());
    assertEquals(1, stream.oversizedLines());
    assertEquals(1, client.malformedEventLines());
    assertEquals(1, client.oversizedEventLines());
    assertFalse(got.end.isDone());

    conn.push("0\r\n\r\n"); // the engine ends the response
    assertNull(got.end.get(10, TimeUnit.SECONDS));
    waitFor(() -> conn.closed);
  }

  @Test
  void cancelClosesTheChannelAndSilencesTheHandlers() throws Exception {
    ScriptedConnector engine = eventsEngine();
    DockerEngineClient client = client(engine);
    Collected got = new Collected();
    EventStream stream = calls().await(() -> client.events(Set.of("container"), got.events::add, got::end));
    ScriptedConnector.Conn conn = engine.last();
    assertFalse(conn.requestLine().contains("since="));

    conn.push(chunk(EventStreamParserTest.START + "\n"));
    waitFor(() -> got.events.size() == 1);
    context.runOnContext(v -> stream.cancel());
    waitFor(() -> conn.closed);
    conn.push(chunk(EventStreamParserTest.DIE + "\n"));
    conn.end();
    // Give a late event every chance to (wrongly) arrive: a round trip through the context.
    calls().await(() -> Future.succeededFuture(null));
    calls().await(() -> Future.succeededFuture(null));
    assertEquals(1, got.events.size());
    assertFalse(got.end.isDone(), "no end callback after cancel");
  }

  @Test
  void aBrokenStreamEndsWithTheError() throws Exception {
    ScriptedConnector engine = eventsEngine();
    Collected got = new Collected();
    calls().await(() -> client(engine).events(Set.of("container"), got.events::add, got::end));
    ScriptedConnector.Conn conn = engine.last();
    conn.push(chunk(EventStreamParserTest.START + "\n") + "40\r\n{\"Type\":");
    conn.end(); // SSH channel closed mid-chunk

    Throwable error = got.end.get(10, TimeUnit.SECONDS);
    assertTrue(error instanceof DockerEngineException
        && error.getMessage().contains("before the response was complete"), String.valueOf(error));
    assertEquals(List.of("start"), got.actions());
  }

  @Test
  void anEngineErrorForEventsFailsTheCall() throws Exception {
    ScriptedConnector engine = engine(line -> line.startsWith("GET /version ") ? version(VERSION_141)
        : Reply.of(response(400, "{\"message\":\"invalid filter 'tpye'\"}\n")));
    Collected got = new Collected();
    Throwable error = calls().failure(() -> client(engine).events(Set.of("tpye"), got.events::add, got::end));
    DockerApiException api = assertInstanceOf(DockerApiException.class, error);
    assertEquals(400, api.status());
    assertEquals("invalid filter 'tpye'", api.engineMessage());
    assertFalse(got.end.isDone());
  }
}
