package dev.docktunnel.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EngineHttpCodecTest {
  static final String CONTENT_LENGTH_RESPONSE = "HTTP/1.1 200 OK\r\n"
      + "Api-Version: 1.41\r\n"
      + "Content-Type: application/json\r\n"
      + "Date: Thu, 02 May 2024 10:15:31 GMT\r\n"
      + "Content-Length: 27\r\n"
      + "\r\n"
      + "{\"ApiVersion\":\"1.41\",\"x\":1}";
  static final String CHUNKED_RESPONSE = "HTTP/1.1 200 OK\r\n"
      + "Content-Type: application/json\r\n"
      + "Transfer-Encoding: chunked\r\n"
      + "\r\n"
      + "5\r\n[{\"a\"\r\n"
      + "a\r\n:1},{\"b\":2\r\n"
      + "2\r\n}]\r\n"
      + "0\r\n\r\n";

  /** Parts flattened: "H200", body text, "END". */
  static List<String> describe(List<EngineHttpCodec.Part> parts) {
    List<String> out = new ArrayList<>();
    for (EngineHttpCodec.Part p : parts) {
      if (p instanceof EngineHttpCodec.Head h) {
        out.add("H" + h.status());
      } else if (p instanceof EngineHttpCodec.Body b) {
        out.add(b.bytes().toString(StandardCharsets.UTF_8));
      } else {
        out.add("END");
      }
    }
    return out;
  }

  /** Feeds the response in two pieces cut at {@code cut}; returns head status, body, end flag. */
  static String parseCutAt(String response, int cut) {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/x");
      List<EngineHttpCodec.Part> parts = new ArrayList<>();
      parts.addAll(codec.decode(Buffer.buffer(response.substring(0, cut))));
      parts.addAll(codec.decode(Buffer.buffer(response.substring(cut))));
      StringBuilder sb = new StringBuilder();
      for (String s : describe(parts)) {
        sb.append(s.equals("END") || s.startsWith("H") ? "|" + s + "|" : s);
      }
      return sb.toString();
    }
  }

  @Test
  void requestIsHttp11WithHostDocker() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      String request = codec.encodeRequest(HttpMethod.GET, "/v1.41/events?filters=%7B%7D")
          .toString(StandardCharsets.US_ASCII);
      assertTrue(request.startsWith("GET /v1.41/events?filters=%7B%7D HTTP/1.1\r\n"), request);
      assertTrue(request.contains("\r\nhost: docker\r\n"), request);
      assertTrue(request.endsWith("\r\n\r\n"), request);
    }
  }

  @Test
  void contentLengthBodyCutAnywhere() {
    for (int cut = 0; cut <= CONTENT_LENGTH_RESPONSE.length(); cut++) {
      assertEquals("|H200|{\"ApiVersion\":\"1.41\",\"x\":1}|END|",
          parseCutAt(CONTENT_LENGTH_RESPONSE, cut), "cut at " + cut);
    }
  }

  @Test
  void chunkedBodyCutAnywhereIsDechunked() {
    for (int cut = 0; cut <= CHUNKED_RESPONSE.length(); cut++) {
      assertEquals("|H200|[{\"a\":1},{\"b\":2}]|END|", parseCutAt(CHUNKED_RESPONSE, cut),
          "cut at " + cut);
    }
  }

  @Test
  void chunkedBodyFedByteByByte() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/x");
      StringBuilder body = new StringBuilder();
      boolean ended = false;
      for (byte b : CHUNKED_RESPONSE.getBytes(StandardCharsets.US_ASCII)) {
        for (EngineHttpCodec.Part p : codec.decode(Buffer.buffer(new byte[] {b}))) {
          if (p instanceof EngineHttpCodec.Body bb) {
            body.append(bb.bytes().toString(StandardCharsets.UTF_8));
          } else if (p instanceof EngineHttpCodec.End) {
            ended = true;
          }
        }
      }
      assertEquals("[{\"a\":1},{\"b\":2}]", body.toString());
      assertTrue(ended);
      assertTrue(codec.isEnded());
    }
  }

  @Test
  void headersAreReadable() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/version");
      EngineHttpCodec.Head head = (EngineHttpCodec.Head) codec
          .decode(Buffer.buffer(CONTENT_LENGTH_RESPONSE)).get(0);
      assertEquals("1.41", head.headers().get("api-version"));
      assertEquals("Thu, 02 May 2024 10:15:31 GMT", head.headers().get("Date"));
    }
  }

  @Test
  void errorStatusWithBody() {
    String response = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
        + "Content-Length: 41\r\n\r\n{\"message\":\"No such container: nope123\"}\n";
    assertEquals("|H404|{\"message\":\"No such container: nope123\"}\n|END|",
        parseCutAt(response, 30));
  }

  @Test
  void bodyUntilCloseEndsAtEndOfInput() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/x");
      List<String> parts = describe(codec.decode(Buffer.buffer(
          "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello ")));
      assertFalse(codec.isEnded());
      parts.addAll(describe(codec.decode(Buffer.buffer("world"))));
      parts.addAll(describe(codec.endOfInput()));
      assertEquals("H200|hello |world|END", String.join("|", parts));
    }
  }

  @Test
  void truncatedResponsesFailAtEndOfInput() {
    for (String truncated : new String[] {
        "",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"}) {
      try (EngineHttpCodec codec = new EngineHttpCodec()) {
        codec.encodeRequest(HttpMethod.GET, "/x");
        codec.decode(Buffer.buffer(truncated));
        DockerEngineException e = assertThrows(DockerEngineException.class, codec::endOfInput,
            truncated);
        assertTrue(e.getMessage().contains("before the response was complete"), e.getMessage());
      }
    }
  }

  @Test
  void garbageIsAProtocolError() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/x");
      DockerEngineException e = assertThrows(DockerEngineException.class,
          () -> codec.decode(Buffer.buffer("SSH-2.0-OpenSSH_9.2\r\nwhat\r\n\r\n")));
      assertTrue(e.getMessage().startsWith("malformed HTTP response"), e.getMessage());
    }
  }

  @Test
  void hugeHeadersAreRefused() {
    try (EngineHttpCodec codec = new EngineHttpCodec()) {
      codec.encodeRequest(HttpMethod.GET, "/x");
      String response = "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(100_000) + "\r\n\r\n";
      assertThrows(DockerEngineException.class, () -> codec.decode(Buffer.buffer(response)));
    }
  }
}
