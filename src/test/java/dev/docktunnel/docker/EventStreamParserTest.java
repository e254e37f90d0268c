package dev.docktunnel.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventStreamParserTest {
  static final String START = "{\"status\":\"start\",\"id\":\"4f1c\",\"from\":\"nginx\","
      + "\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"4f1c\",\"Attributes\":"
      + "{\"image\":\"nginx\",\"name\":\"web\",\"maintainer\":\"x\"}},\"scope\":\"local\","
      + "\"time\":1714644931,\"timeNano\":1714644931523456789}";
  static final String DIE = "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"4f1c\","
      + "\"Attributes\":{\"exitCode\":\"0\",\"name\":\"web\"}},\"time\":1714644999}";
  static final String EXEC = "{\"Type\":\"container\",\"Action\":\"exec_start: sh -c true\","
      + "\"Actor\":{\"ID\":\"4f1c\",\"Attributes\":{\"name\":\"web\"}},\"timeNano\":5}";

  final List<DockerEvent> events = new ArrayList<>();
  final EventStreamParser parser = new EventStreamParser(events::add);

  @Test
  void oneLinePerEventWithFieldsRead() {
    parser.feed(Buffer.buffer(START + "\n"));

    assertEquals(1, events.size());
    DockerEvent e = events.get(0);
    assertEquals("container", e.type());
    assertEquals("start", e.action());
    assertEquals("4f1c", e.id());
    assertEquals("web", e.name());
    assertEquals(Map.of("image", "nginx", "name", "web", "maintainer", "x"), e.attributes());
    assertEquals(1714644931523456789L, e.timeNano());
  }

  @Test
  void linesSplitAtEveryPossiblePointAreReassembled() {
    String stream = START + "\n" + DIE + "\r\n" + EXEC + "\n";
    for (int cut = 0; cut <= stream.length(); cut++) {
      events.clear();
      EventStreamParser p = new EventStreamParser(events::add);
      p.feed(Buffer.buffer(stream.substring(0, cut)));
      p.feed(Buffer.buffer(stream.substring(cut)));
      assertEquals(List.of("start", "die", "exec_start"),
          events.stream().map(DockerEvent::baseAction).toList(), "cut at " + cut);
      assertEquals(1714644999_000_000_000L, events.get(1).timeNano(), "time in seconds only");
    }
  }

  @Test
  void randomPiecesAndSeveralLinesPerPiece() {
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      all.append(i % 2 == 0 ? START : DIE).append('\n');
    }
    byte[] bytes = all.toString().getBytes();
    Random random = new Random(42);
    for (int pos = 0; pos < bytes.length; ) {
      int n = Math.min(bytes.length - pos, 1 + random.nextInt(700));
      parser.feed(Buffer.buffer().appendBytes(bytes, pos, n));
      pos += n;
    }
    assertEquals(200, events.size());
    assertEquals(0, parser.malformedLines());
  }

  @Test
  void malformedLinesAreSkippedAndCountedAndTheStreamGoesOn() {
    parser.feed(Buffer.buffer("{not json\n" + START + "\n[1,2]\nnull\n\n   \n"
        + "{\"Type\":\"container\",\"Action\":\"start\"}\n" // no actor id
        + "{\"Type\":\"container\",\"Actor\":{\"ID\":\"x\"}}\n" // no action
        + DIE + "\n"));

    assertEquals(List.of("start", "die"), events.stream().map(DockerEvent::action).toList());
    assertEquals(5, parser.malformedLines(), "blank lines are not malformed");
    assertEquals(0, parser.oversizedLines());
  }

  @Test
  void anOversizedLineIsSkippedWithoutBufferingItAndCounted() {
    EventStreamParser small = new EventStreamParser(events::add, 1000);
    small.feed(Buffer.buffer(START + "\n{\"Type\":\"container\",\"junk\":\""));
    for (int i = 0; i < 50; i++) {
      small.feed(Buffer.buffer("x".repeat(100))); // 5000 bytes: well over the limit
    }
    small.feed(Buffer.buffer("\"}\n" + DIE + "\n"));

    assertEquals(List.of("start", "die"), events.stream().map(DockerEvent::action).toList());
    assertEquals(1, small.oversizedLines());
    assertEquals(0, small.malformedLines());
  }

  @Test
  void aLineJustOverOneMebibyteInOnePieceIsSkipped() {
    String big = new JsonObject().put("Type", "container").put("Action", "start")
        .put("Actor", new JsonObject().put("ID", "big")
            .put("Attributes", new JsonObject().put("pad", "y".repeat(EventStreamParser.MAX_LINE_BYTES))))
        .encode();
    parser.feed(Buffer.buffer(big + "\n" + DIE + "\n"));

    assertEquals(List.of("die"), events.stream().map(DockerEvent::action).toList());
    assertEquals(1, parser.oversizedLines());
  }

  @Test
  void aLineAtTheLimitIsKept() {
    EventStreamParser exact = new EventStreamParser(events::add, DIE.length());
    exact.feed(Buffer.buffer(DIE.substring(0, 10)));
    exact.feed(Buffer.buffer(DIE.substring(10) + "\n"));
    assertEquals(1, events.size());
    assertEquals(0, exact.oversizedLines());
  }

  @Test
  void aFinalLineWithoutNewlineCountsAtTheEnd() {
    parser.feed(Buffer.buffer(START + "\n" + DIE));
    assertEquals(1, events.size());
    parser.end();
    assertEquals(2, events.size());
  }

  @Test
  void legacyEventsWithoutTypeAreContainerEvents() {
    parser.feed(Buffer.buffer("{\"status\":\"die\",\"id\":\"abc\",\"from\":\"busybox\",\"time\":7}\n"));
    DockerEvent e = events.get(0);
    assertEquals("container", e.type());
    assertEquals("die", e.action());
    assertEquals("abc", e.id());
    assertEquals("busybox", e.attributes().get("image"));
    assertTrue(e.name().isEmpty());
  }
}
