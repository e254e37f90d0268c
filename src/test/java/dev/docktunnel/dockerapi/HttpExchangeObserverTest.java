package dev.docktunnel.dockerapi;

import static dev.docktunnel.dockerapi.Conversation.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.dockerapi.Conversation.Recorder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpExchangeObserverTest {
  static final String PING = "GET /v1.41/_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n"
      + "User-Agent: Docker-Client/20.10.24\r\n\r\n";
  static final String PONG = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n"
      + "Content-Type: text/plain; charset=utf-8\r\n\r\nOK";
  static final String LIST = "GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n";
  static final String LIST_BODY = "[{\"Id\":\"4fa6e0f0c678\",\"Names\":[\"/web\"]}]";
  static final String LISTED = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
      + LIST_BODY.length() + "\r\n\r\n" + LIST_BODY;
  static final String START = "POST /v1.41/containers/web/start HTTP/1.1\r\nHost: api.moby.localhost\r\n"
      + "Content-Type: text/plain\r\n\r\n";
  static final String STARTED = "HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n"
      + "Date: Tue, 01 Dec 2026 15:00:00 GMT\r\n\r\n";
  static final String EVENTS = "GET /v1.41/events?filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D HTTP/1.1\r\n"
      + "Host: api.moby.localhost\r\n\r\n";
  static final String EVENTS_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      + "Transfer-Encoding: chunked\r\n\r\n";
  static final String CHUNKED_OK = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  static final String EVENT = "{\"status\":\"start\",\"id\":\"4fa6\"}\n";

  static String chunk(String data) {
    return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
  }

  @Test
  void keepAliveSequenceOfPingListStartAndAnEventStreamCutByTheEngine() {
    Recorder r = new Conversation()
        .client(PING).engine(PONG)
        .client(LIST).engine(LISTED)
        .client(START).engine(STARTED)
        .client(EVENTS).engine(EVENTS_HEAD).engine(chunk(EVENT)).engine(chunk(EVENT).substring(0, 7))
        .engineClosed()
        .playEveryWay();
    long list = PONG.length();
    long start = list + LISTED.length();
    long events = start + STARTED.length();
    assertEquals(List.of(
        "request #0 GET /v1.41/_ping",
        "begins #0 @0", "head #0 200 @0", "complete #0",
        "request #1 GET /v1.41/containers/json?all=1",
        "begins #1 @" + list, "head #1 200 @" + list, "complete #1",
        "request #2 POST /v1.41/containers/web/start",
        "begins #2 @" + start, "head #2 204 @" + start, "complete #2",
        "request #3 GET " + EVENTS.split(" ")[1],
        "begins #3 @" + events, "head #3 200 @" + events,
        "cut #3: the engine closed the connection in the middle of the response"), r.events);
    assertEquals(Map.of(0L, "OK", 1L, LIST_BODY, 3L, EVENT + EVENT.substring(0, 7 - 4)), r.bodies());
    assertEquals(events + EVENTS_HEAD.length() + chunk(EVENT).length() + 7, r.engineOffset);
    RequestHead list0 = r.requests.get(1);
    assertEquals(new RequestHead(1, "GET", "/v1.41/containers/json?all=1", "/v1.41/containers/json",
        "all=1", "HTTP/1.1", -1, false, null, false), list0);
  }

  @Test
  void aResponseBeginningMidPieceAfterThePreviousTailIsPlacedExactly() {
    // Pipelined: both requests first, then both responses in one piece (cut anywhere by playEveryWay).
    String chunkedPong = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk("O") + chunk("K") + "0\r\n\r\n";
    Recorder r = new Conversation()
        .client(PING + LIST)
        .engine(chunkedPong + LISTED)
        .playEveryWay();
    assertEquals(List.of("request #0 GET /v1.41/_ping", "request #1 GET /v1.41/containers/json?all=1",
        "begins #0 @0", "head #0 200 @0", "complete #0",
        "begins #1 @" + chunkedPong.length(), "head #1 200 @" + chunkedPong.length(), "complete #1"),
        r.events);
    assertEquals(Map.of(0L, "OK", 1L, LIST_BODY), r.bodies());
  }

  @Test
  void responseBeginsIsReportedOnItsFirstByteBeforeTheHeadIsComplete() {
    List<String> seen = new ArrayList<>();
    HttpExchangeObserver observer = new HttpExchangeObserver(new HttpExchangeObserver.Listener() {
      @Override
      public void responseBegins(RequestHead request, long offset) {
        seen.add("begins " + offset);
      }

      @Override
      public void responseHead(RequestHead request, int status, long offset) {
        seen.add("head " + status + " " + offset);
      }
    });
    observer.fromClient(Unpooled.wrappedBuffer(bytes(PING + START)));
    observer.fromEngine(Unpooled.wrappedBuffer(bytes(PONG.substring(0, PONG.length() - 1))));
    assertEquals(List.of("begins 0", "head 200 0"), seen);
    observer.fromEngine(Unpooled.wrappedBuffer(bytes("KH")));
    assertEquals(List.of("begins 0", "head 200 0", "begins " + PONG.length()), seen);
    assertEquals(PONG.length() + 1, observer.engineOffset());
    assertEquals(1, observer.outstanding().size());
    assertEquals("/v1.41/containers/web/start", observer.outstanding().get(0).path());
  }

  @Test
  void chunkedRequestWithExtensionsAndTrailersThenTheNextRequest() {
    String build = "POST /v1.41/build?t=app HTTP/1.1\r\nHost: api.moby.localhost\r\nTransfer-Encoding: chunked\r\n"
        + "Content-Type: application/x-tar\r\n\r\n"
        + "5;name=\"va;l\" ; other\r\nhello\r\n" + "A \t; x=y\r\n0123456789\r\n"
        + "0;last\r\nX-Checksum: abc\r\nX-More: d\r\n\r\n";
    String built = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + "4;ext=1\r\n{\"a\"\r\n" + "1\n}\n" + "0\r\nX-Trailer: 1\r\n\r\n";
    Recorder r = new Conversation()
        .client(build).engine(built)
        .client(PING).engine(PONG)
        .playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/build?t=app", "begins #0 @0", "head #0 200 @0", "complete #0",
        "request #1 GET /v1.41/_ping", "begins #1 @" + built.length(), "head #1 200 @" + built.length(),
        "complete #1"), r.events);
    assertTrue(r.requests.get(0).chunked());
    assertEquals(Map.of(0L, "{\"a\"}", 1L, "OK"), r.bodies());
  }

  @Test
  void contentLengthRequestBodyAndTheCreatedIdReadFromTheResponseInPieces() {
    String config = "{\"Image\":\"busybox\",\"Cmd\":[\"GET / HTTP/1.1\"]}";
    String create = "POST /v1.41/containers/create?name=web HTTP/1.1\r\nHost: api.moby.localhost\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + config.length() + "\r\n\r\n" + config;
    String id = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2";
    String body = "{\"Id\":\"" + id + "\",\"Warnings\":[]}\n";
    String created = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
        + body.length() + "\r\n\r\n" + body;
    Recorder r = new Conversation().client(create).engine(created).client(PING).engine(PONG).playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/containers/create?name=web", "begins #0 @0",
        "head #0 201 @0", "complete #0", "request #1 GET /v1.41/_ping",
        "begins #1 @" + created.length(), "head #1 200 @" + created.length(), "complete #1"), r.events);
    assertEquals(config.length(), r.requests.get(0).contentLength());

    // The caller's way: feed the create response's body pieces to a CreatedIdReader, ask at completion.
    List<String> ids = new ArrayList<>();
    HttpExchangeObserver observer = new HttpExchangeObserver(new HttpExchangeObserver.Listener() {
      CreatedIdReader reader;

      @Override
      public void responseHead(RequestHead request, int status, long offset) {
        reader = status == 201 ? new CreatedIdReader() : null;
      }

      @Override
      public void responseBody(RequestHead request, ByteBuf buf, int index, int length) {
        reader.feed(buf, index, length);
      }

      @Override
      public void responseComplete(RequestHead request) {
        ids.add(reader.id());
      }
    });
    observer.fromClient(Unpooled.wrappedBuffer(bytes(create)));
    byte[] answer = bytes("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk(body.substring(0, 9)) + chunk(body.substring(9)) + "0\r\n\r\n");
    for (byte b : answer) {
      observer.fromEngine(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    assertEquals(List.of(id), ids);
  }

  @Test
  void upgradeTo101ForExecStartThenArbitraryBytesBothWaysReportNothing() {
    String execBody = "{\"Detach\":false,\"Tty\":true}";
    String execStart = "POST /v1.41/exec/9a8b/start HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\n"
        + "Content-Type: application/json\r\nUpgrade: tcp\r\nContent-Length: " + execBody.length() + "\r\n\r\n"
        + execBody;
    String upgraded = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    Recorder r = new Conversation()
        .client(execStart)
        .engine(upgraded + "/ # ")
        .client("ls\r\n" + PING + "\u0016\u0003\u0001garbage")
        .engine("HTTP/1.1 200 OK\r\n\r\nnot http \u0000\u00ff" + PONG)
        .clientClosed()
        .client("after EOF")
        .engineClosed()
        .playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/exec/9a8b/start", "begins #0 @0", "head #0 101 @0",
        "raw #0: 101 Switching Protocols to tcp"), r.events);
    assertEquals("tcp", r.requests.get(0).upgrade());
  }

  @Test
  void clientBytesBeforeThe101AreRawAndBeforeARefusalAreUnparseable() {
    String attach = "POST /v1.41/containers/web/attach?stdin=1&stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n"
        + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    Recorder raw = new Conversation()
        .client(attach + "echo hi\n")
        .engine("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhi\n")
        .playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/containers/web/attach?stdin=1&stream=1", "begins #0 @0",
        "head #0 101 @0", "raw #0: 101 Switching Protocols to tcp"), raw.events);

    String notFound = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    Recorder refused = new Conversation()
        .client(attach + "echo hi\n")
        .engine(notFound)
        .client(PING)
        .playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/containers/web/attach?stdin=1&stream=1", "begins #0 @0",
        "head #0 404 @0", "unparseable client: 8 bytes sent after POST /v1.41/containers/web/attach asked to"
            + " upgrade, before its answer, which was 404, not 101"), refused.events);
  }

  @Test
  void aRefusedUpgradeWithNothingSentMeanwhileKeepsTheConnectionHttp() {
    String attach = "GET /v1.41/containers/web/attach/ws?stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n"
        + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n";
    String refused = "HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nno ws";
    Recorder r = new Conversation().client(attach).engine(refused).client(PING).engine(PONG).playEveryWay();
    assertEquals(List.of("request #0 GET /v1.41/containers/web/attach/ws?stream=1", "begins #0 @0",
        "head #0 400 @0", "complete #0", "request #1 GET /v1.41/_ping", "begins #1 @" + refused.length(),
        "head #1 200 @" + refused.length(), "complete #1"), r.events);
    // The refusal can even come before the request is fully sent.
    String upgradeWithBody = "POST /v1.41/exec/1/start HTTP/1.1\r\nUpgrade: tcp\r\nContent-Length: 4\r\n\r\n";
    Recorder early = new Conversation().client(upgradeWithBody).engine(refused).client("{}{}" + PING)
        .engine(PONG).playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/exec/1/start", "begins #0 @0", "head #0 400 @0",
        "complete #0", "request #1 GET /v1.41/_ping", "begins #1 @" + refused.length(),
        "head #1 200 @" + refused.length(), "complete #1"), early.events);
  }

  @Test
  void dockerHijack200WithARawOrMultiplexedStreamAndNoFramingIsRaw() {
    String attach = "POST /containers/web/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n";
    for (String type : List.of("application/vnd.docker.raw-stream", "application/vnd.docker.multiplexed-stream")) {
      Recorder r = new Conversation()
          .client(attach)
          .engine("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\n\r\n"
              + "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0003hi\n")
          .client("stdin " + PING)
          .engine("more output " + PONG)
          .engineClosed()
          .playEveryWay();
      assertEquals(List.of("request #0 POST /containers/web/attach?stream=1&stdout=1", "begins #0 @0",
          "head #0 200 @0", "raw #0: Docker hijack: 200 " + type + " without framing"), r.events);
    }
    // Client bytes sent before the hijack answer are raw too, once it comes.
    Recorder early = new Conversation()
        .client(attach + "ls -l\n")
        .engine("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\ntotal 0\n")
        .playEveryWay();
    assertEquals(List.of("request #0 POST /containers/web/attach?stream=1&stdout=1", "begins #0 @0",
        "head #0 200 @0", "raw #0: Docker hijack: 200 application/vnd.docker.raw-stream without framing"),
        early.events);
    // ... and the client's parse error stands when the answer is not a hijack.
    Recorder refused = new Conversation()
        .client(attach + "ls -l\n")
        .engine("HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}")
        .playEveryWay();
    assertEquals(List.of("request #0 POST /containers/web/attach?stream=1&stdout=1", "begins #0 @0",
        "head #0 409 @0", "unparseable client: not an HTTP request line: \"ls -l\""), refused.events);
  }

  @Test
  void aFramedMultiplexedStreamIsAnOrdinaryResponse() {
    String logs = "GET /v1.43/containers/web/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n";
    String head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n";
    String frame = "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0003hi\n";
    Recorder r = new Conversation().client(logs).engine(head + chunk(frame)).engine(chunk(frame) + "0\r\n\r\n")
        .client(PING).engine(PONG).playEveryWay();
    assertEquals(List.of("request #0 GET /v1.43/containers/web/logs?follow=1&stdout=1", "begins #0 @0",
        "head #0 200 @0", "complete #0", "request #1 GET /v1.41/_ping"), r.events.subList(0, 5));
    assertEquals(frame + frame, r.bodies().get(0L));
  }

  @Test
  void anAnswerBeforeTheRequestBodyEndsLeavesTheBodyFramedAsDeclared() {
    String load = "POST /v1.41/images/load HTTP/1.1\r\nContent-Type: application/x-tar\r\nContent-Length: 10\r\n\r\n";
    String refused = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}";
    Recorder r = new Conversation().client(load + "012").engine(refused).client("3456789" + PING).engine(PONG)
        .playEveryWay();
    assertEquals(List.of("request #0 POST /v1.41/images/load", "begins #0 @0", "head #0 500 @0", "complete #0",
        "request #1 GET /v1.41/_ping", "begins #1 @" + refused.length(), "head #1 200 @" + refused.length(),
        "complete #1"), r.events);
  }

  @Test
  void continue100IsAnInterimHeadAndTheFinalResponseFollows() {
    String put = "PUT /v1.41/containers/web/archive?path=/tmp HTTP/1.1\r\nHost: docker\r\nExpect: 100-Continue\r\n"
        + "Content-Type: application/x-tar\r\nContent-Length: 10\r\n\r\n";
    String cont = "HTTP/1.1 100 Continue\r\n\r\n";
    String hints = "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n";
    String ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    Recorder r = new Conversation()
        .client(put).engine(cont).client("0123456789").engine(hints + ok)
        .client(PING).engine(PONG)
        .playEveryWay();
    int finalAt = cont.length() + hints.length();
    assertEquals(List.of("request #0 PUT /v1.41/containers/web/archive?path=/tmp", "begins #0 @0",
        "head #0 100 @0", "head #0 103 @" + cont.length(), "head #0 200 @" + finalAt, "complete #0",
        "request #1 GET /v1.41/_ping", "begins #1 @" + (finalAt + ok.length()),
        "head #1 200 @" + (finalAt + ok.length()), "complete #1"), r.events);
    assertTrue(r.requests.get(0).expectContinue());
  }

  @Test
  void headRequest304And204HaveNoBodyWhateverTheirContentLength() {
    String headPing = "HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n";
    String headPong = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    String inspect = "GET /containers/web/json HTTP/1.1\r\nIf-None-Match: x\r\n\r\n";
    String notModified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n";
    String stop = "POST /containers/web/stop HTTP/1.1\r\n\r\n";
    String stopped = "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n";
    Recorder r = new Conversation()
        .client(headPing).engine(headPong)
        .client(inspect).engine(notModified)
        .client(stop).engine(stopped)
        .client(PING).engine(PONG)
        .playEveryWay();
    long a = headPong.length();
    long b = a + notModified.length();
    long c = b + stopped.length();
    assertEquals(List.of("request #0 HEAD /_ping", "begins #0 @0", "head #0 200 @0", "complete #0",
        "request #1 GET /containers/web/json", "begins #1 @" + a, "head #1 304 @" + a, "complete #1",
        "request #2 POST /containers/web/stop", "begins #2 @" + b, "head #2 204 @" + b, "complete #2",
        "request #3 GET /v1.41/_ping", "begins #3 @" + c, "head #3 200 @" + c, "complete #3"), r.events);
    assertEquals(Map.of(3L, "OK"), r.bodies());
  }

  @Test
  void aBodyWithoutFramingRunsUntilTheEngineClosesAndCompletesThen() {
    String export = "GET /containers/web/export HTTP/1.1\r\n\r\n";
    String head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
    Recorder r = new Conversation().client(export).engine(head + "tar bytes HTTP/1.1 200 OK\r\n\r\n").engine("more")
        .engineClosed().playEveryWay();
    assertEquals(List.of("request #0 GET /containers/web/export", "begins #0 @0", "head #0 200 @0",
        "complete #0"), r.events);
    assertEquals("tar bytes HTTP/1.1 200 OK\r\n\r\nmore", r.bodies().get(0L));
    // Transfer-Encoding that does not end in chunked is read until close too (RFC 9112 6.3).
    Recorder gz = new Conversation().client(export)
        .engine("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\nabcdef")
        .engineClosed().playEveryWay();
    assertEquals("abcdef", gz.bodies().get(0L));
    assertEquals("complete #0", gz.events.get(gz.events.size() - 1));
  }

  @Test
  void engineClosedCutsEveryRequestStillOwedAndReportsNothingAfter() {
    Recorder r = new Conversation()
        .client(LIST + PING + START)
        .engine(LISTED.substring(0, LISTED.length() - 3))
        .engineClosed()
        .client(PING)
        .engine("xx")
        .playEveryWay();
    assertEquals(List.of("request #0 GET /v1.41/containers/json?all=1", "request #1 GET /v1.41/_ping",
        "request #2 POST /v1.41/containers/web/start", "begins #0 @0", "head #0 200 @0",
        "cut #0: the engine closed the connection in the middle of the response",
        "cut #1: the engine closed the connection before answering",
        "cut #2: the engine closed the connection before answering"), r.events);
  }

  @Test
  void clientClosedLetsOwedResponsesFinishAndLaterClientBytesAreUnparseable() {
    Recorder r = new Conversation()
        .client(PING).clientClosed().engine(PONG).client("x").engineClosed()
        .playEveryWay();
    assertEquals(List.of("request #0 GET /v1.41/_ping", "begins #0 @0", "head #0 200 @0", "complete #0",
        "unparseable client: bytes after the client's end of stream, at client offset " + PING.length()),
        r.events);
  }

  @Test
  void garbageFromTheClientIsUnparseableOnceAndTheOffsetsStillCount() {
    byte[] tlsHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03, '\n'};
    Recorder r = new Conversation().client(tlsHello).client(PING).engine(PONG).clientClosed().engineClosed()
        .playEveryWay();
    assertEquals(List.of("unparseable client: not an HTTP request line: "
        + "\"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\""),
        r.events);
    assertEquals(PONG.length(), r.engineOffset);
    assertEquals(tlsHello.length + PING.length(), r.clientOffset);
  }

  @Test
  void badHeadsAndFramingAreUnparseableNamingTheProblem() {
    assertEquals("unparseable client: unsupported HTTP version in request line: \"PRI * HTTP/2.0\"",
        only(new Conversation().client("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")));
    assertEquals("unparseable client: conflicting Content-Length values: 3 and 4",
        only(new Conversation().client("POST /build HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")));
    assertEquals("unparseable client: bad Content-Length: \"Content-Length: -1\"",
        only(new Conversation().client("POST /build HTTP/1.1\r\nContent-Length: -1\r\n\r\n")));
    assertEquals("unparseable client: request Transfer-Encoding \"gzip\" does not end in chunked",
        only(new Conversation().client("POST /build HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")));
    assertEquals("unparseable client: obsolete folded header line: \" docker\"",
        only(new Conversation().client("GET /_ping HTTP/1.1\r\nHost:\r\n docker\r\n\r\n")));
    assertEquals("unparseable client: header line without a name and colon: \"Host docker\"",
        only(new Conversation().client("GET /_ping HTTP/1.1\r\nHost docker\r\n\r\n")));
    assertEquals("unparseable client: bad header name: \"Host : docker\"",
        only(new Conversation().client("GET /_ping HTTP/1.1\r\nHost : docker\r\n\r\n")));
    assertEquals("unparseable client: bare CR in a header line: \"Host: do\\rcker\"",
        only(new Conversation().client("GET /_ping HTTP/1.1\r\nHost: do\rcker\r\n\r\n")));
    // A client error waits for the answer to the request before it: that answer could have made it raw.
    assertEquals("unparseable client: request body of POST /build: chunk size expected, got \"x\"",
        last(new Conversation().client("POST /build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")
            .engine("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")));
    assertEquals("unparseable engine: response to GET /v1.41/_ping: not an HTTP status line: \"SSH-2.0-OpenSSH_9.2\"",
        last(new Conversation().client(PING).engine("SSH-2.0-OpenSSH_9.2\r\n")));
    assertEquals("unparseable engine: response to GET /v1.41/_ping: chunk data not followed by CRLF (got \"X\")",
        last(new Conversation().client(PING).engine(CHUNKED_OK + "2\r\nOKX\r\n")));
    assertEquals("unparseable engine: response to GET /v1.41/_ping: chunk size over 15 hex digits",
        last(new Conversation().client(PING).engine(CHUNKED_OK + "1000000000000000\r\n")));
    assertEquals("unparseable engine: bytes from the engine with no request outstanding, at engine offset 0",
        only(new Conversation().engine("hi")));
    assertEquals("unparseable engine: bytes from the engine with no request outstanding, at engine offset "
        + PONG.length(), last(new Conversation().client(PING).engine(PONG + "\r\n\r\n")));
  }

  @Test
  void emptyLinesBeforeARequestLineAreIgnored() {
    Recorder r = new Conversation().client("\r\n\n" + PING).engine(PONG).playEveryWay();
    assertEquals(List.of("request #0 GET /v1.41/_ping", "begins #0 @0", "head #0 200 @0", "complete #0"), r.events);
  }

  @Test
  void aHeadOver64KibIsUnparseableAndTheLineBufferStaysBounded() {
    String huge = "GET /containers/json?filters=" + "a".repeat(HttpExchangeObserver.MAX_HEAD_BYTES)
        + " HTTP/1.1\r\n\r\n";
    Recorder recorder = new Recorder();
    HttpExchangeObserver observer = new HttpExchangeObserver(recorder);
    byte[] bytes = bytes(huge);
    for (int at = 0; at < bytes.length; at += 1000) {
      observer.fromClient(Unpooled.wrappedBuffer(bytes, at, Math.min(1000, bytes.length - at)));
      assertTrue(observer.bufferedCapacity() <= 2 * HttpExchangeObserver.MAX_HEAD_BYTES);
    }
    assertEquals(List.of("unparseable client: request head over 65536 bytes"), recorder.events);
    assertFalse(observer.isWatching());

    // Many header lines summing over the bound fail the same way.
    Recorder many = new Conversation()
        .client("GET / HTTP/1.1\r\n" + "X-Pad: 0123456789abcdef\r\n".repeat(3000) + "\r\n").play();
    assertEquals(List.of("unparseable client: request head over 65536 bytes"), many.events);

    // A long (but allowed) head line does not pin its buffer after the head is read.
    String longTarget = "GET /containers/json?filters=" + "b".repeat(40_000) + " HTTP/1.1\r\n\r\n";
    HttpExchangeObserver kept = new HttpExchangeObserver(new Recorder());
    int idle = kept.bufferedCapacity();
    kept.fromClient(Unpooled.wrappedBuffer(bytes(longTarget)));
    kept.fromEngine(Unpooled.wrappedBuffer(bytes(PONG)));
    kept.fromClient(Unpooled.wrappedBuffer(bytes(PING)));
    assertEquals(idle, kept.bufferedCapacity());
  }

  @Test
  void aTwentyMegabyteChunkedBuildContextInOddPiecesHoldsNoBytes() {
    Recorder recorder = new Recorder();
    List<Integer> bodyPieces = new ArrayList<>();
    HttpExchangeObserver observer = new HttpExchangeObserver(new HttpExchangeObserver.Listener() {
      @Override
      public void request(RequestHead head) {
        recorder.request(head);
      }

      @Override
      public void responseComplete(RequestHead request) {
        recorder.responseComplete(request);
      }

      @Override
      public void unparseable(HttpExchangeObserver.Direction direction, String why) {
        recorder.unparseable(direction, why);
      }

      @Override
      public void responseBody(RequestHead request, ByteBuf buf, int index, int length) {
        bodyPieces.add(length);
      }
    });
    observer.fromClient(Unpooled.wrappedBuffer(bytes("POST /v1.41/build?t=app&rm=1 HTTP/1.1\r\nHost: docker\r\n"
        + "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n")));
    int idle = observer.bufferedCapacity();
    // Go's chunked writer sends one chunk per write: 32 KiB chunks here, of bytes that look like HTTP.
    byte[] oneChunk = bytes(("GET / HTTP/1.1\r\n0\r\n\r\n" + "x".repeat(100)).repeat(400));
    byte[] framed = bytes(Integer.toHexString(32 * 1024) + "\r\n");
    ByteBuf stream = Unpooled.buffer();
    for (int k = 0; k < 4; k++) {
      stream.writeBytes(framed).writeBytes(oneChunk, 0, 32 * 1024).writeBytes(bytes("\r\n"));
    }
    long total = 20L * 1024 * 1024;
    long sent = 0;
    int[] pieceSizes = {7001, 1, 65_521, 13, 32_771, 2};
    int p = 0;
    int end = stream.writerIndex();
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
    long started = System.nanoTime();
    int at = 0;
    while (sent < total) {
      int n = Math.min(pieceSizes[p++ % pieceSizes.length], end - at);
      stream.setIndex(at, at + n); // one buffer re-aimed: the loop itself allocates nothing
      observer.fromClient(stream);
      at += n;
      if (at == end) {
        at = 0;
        sent += 4L * 32 * 1024;
      }
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
    assertTrue(allocated < 1024 * 1024, "observing 20 MiB allocated " + allocated + " bytes");
    observer.fromClient(Unpooled.wrappedBuffer(bytes("0\r\n\r\n" + PING)));
    long nanos = System.nanoTime() - started;
    assertEquals(idle, observer.bufferedCapacity(), "the observer held body bytes");
    observer.fromEngine(Unpooled.wrappedBuffer(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + PONG)));
    assertEquals(List.of("request #0 POST /v1.41/build?t=app&rm=1", "request #1 GET /v1.41/_ping",
        "complete #0", "complete #1"), recorder.events);
    assertEquals(List.of(2), bodyPieces); // request bodies are never handed out; PONG's "OK" is
    assertTrue(observer.isWatching());
    System.out.printf("observed a %d MiB chunked request body in %.1f ms (%.0f MiB/s), allocating %d bytes%n",
        total >> 20, nanos / 1e6, (total / 1048576.0) / (nanos / 1e9), allocated);
  }

  @Test
  void aTwoHundredOkToConnectIsATunnel() {
    Recorder r = new Conversation().client("CONNECT engine:2375 HTTP/1.1\r\nHost: engine:2375\r\n\r\nearly")
        .engine("HTTP/1.1 200 Connection established\r\n\r\nraw").playEveryWay();
    assertEquals(List.of("request #0 CONNECT engine:2375", "begins #0 @0", "head #0 200 @0",
        "raw #0: 200 to CONNECT"), r.events);
  }

  @Test
  void absoluteFormTargetsHaveTheirPath() {
    Recorder r = new Conversation().client("GET http://docker/v1.41/info?x=1 HTTP/1.1\r\n\r\n"
        + "GET http://docker HTTP/1.0\r\n\r\n").play();
    assertEquals("/v1.41/info", r.requests.get(0).path());
    assertEquals("x=1", r.requests.get(0).query());
    assertEquals("/", r.requests.get(1).path());
    assertEquals("HTTP/1.0", r.requests.get(1).version());
  }

  private static String only(Conversation conversation) {
    List<String> events = conversation.playEveryWay().events;
    assertEquals(1, events.size(), events.toString());
    return events.get(0);
  }

  private static String last(Conversation conversation) {
    List<String> events = conversation.playEveryWay().events;
    assertEquals(1, events.stream().filter(e -> e.startsWith("unparseable")).count(), events.toString());
    return events.get(events.size() - 1);
  }
}
