package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A scripted connection for {@link HttpExchangeObserverTest}: the bytes each side sends, in the
 * order they pass, and the ends. Plays them into an observer cut into pieces any way, each piece in
 * a buffer with foreign bytes around its readable range, and checks the observer left the buffer
 * as it was.
 */
final class Conversation {
  enum Kind { CLIENT, ENGINE, CLIENT_CLOSED, ENGINE_CLOSED }

  record Step(Kind kind, byte[] bytes) {
  }

  /** How a step's bytes are cut into the pieces fed. */
  interface Cutter {
    /** The cut positions inside step {@code index} of length {@code length}, ascending. */
    int[] cuts(int index, int length);
  }

  /** The kinds of buffer the pieces come in. */
  enum BufferKind { HEAP, DIRECT, COMPOSITE }

  private final List<Step> steps = new ArrayList<>();

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  Conversation client(String text) {
    return client(bytes(text));
  }

  Conversation client(byte[] bytes) {
    steps.add(new Step(Kind.CLIENT, bytes));
    return this;
  }

  Conversation engine(String text) {
    return engine(bytes(text));
  }

  Conversation engine(byte[] bytes) {
    steps.add(new Step(Kind.ENGINE, bytes));
    return this;
  }

  Conversation clientClosed() {
    steps.add(new Step(Kind.CLIENT_CLOSED, new byte[0]));
    return this;
  }

  Conversation engineClosed() {
    steps.add(new Step(Kind.ENGINE_CLOSED, new byte[0]));
    return this;
  }

  List<Step> steps() {
    return steps;
  }

  /** Plays every step whole. */
  Recorder play() {
    return play((index, length) -> new int[0], BufferKind.HEAP);
  }

  Recorder play(Cutter cutter, BufferKind kind) {
    Recorder recorder = new Recorder();
    HttpExchangeObserver observer = new HttpExchangeObserver(recorder);
    for (int s = 0; s < steps.size(); s++) {
      Step step = steps.get(s);
      switch (step.kind()) {
        case CLIENT_CLOSED -> observer.clientClosed();
        case ENGINE_CLOSED -> observer.engineClosed();
        default -> {
          int start = 0;
          for (int cut : cutter.cuts(s, step.bytes().length)) {
            feed(observer, step.kind(), step.bytes(), start, cut, kind);
            start = cut;
          }
          feed(observer, step.kind(), step.bytes(), start, step.bytes().length, kind);
        }
      }
    }
    recorder.engineOffset = observer.engineOffset();
    recorder.clientOffset = observer.clientOffset();
    return recorder;
  }

  /**
   * Plays the conversation whole, then with each step cut at each byte boundary, then byte by
   * byte, then in random pieces; asserts all give the same report, and returns it.
   */
  Recorder playEveryWay() {
    Recorder whole = play();
    for (int s = 0; s < steps.size(); s++) {
      int target = s;
      for (int at = 1; at < steps.get(s).bytes().length; at++) {
        int position = at;
        Recorder cut = play((index, length) -> index == target ? new int[] {position} : new int[0],
            BufferKind.HEAP);
        assertSame(whole, cut, "step " + s + " cut at " + at);
      }
    }
    Recorder byteByByte = play((index, length) -> {
      int[] cuts = new int[Math.max(0, length - 1)];
      for (int k = 0; k < cuts.length; k++) {
        cuts[k] = k + 1;
      }
      return cuts;
    }, BufferKind.DIRECT);
    assertSame(whole, byteByByte, "byte by byte");
    Random random = new Random(42);
    for (int round = 0; round < 20; round++) {
      Recorder pieces = play((index, length) -> random.ints(random.nextInt(4), 1, Math.max(2, length))
          .filter(c -> c < length).distinct().sorted().toArray(), BufferKind.COMPOSITE);
      assertSame(whole, pieces, "random pieces, round " + round);
    }
    return whole;
  }

  private static void assertSame(Recorder expected, Recorder actual, String how) {
    assertEquals(expected.events, actual.events, how);
    assertEquals(expected.bodies(), actual.bodies(), how + ": response bodies");
    assertEquals(expected.engineOffset, actual.engineOffset, how + ": engine offset");
  }

  private static void feed(HttpExchangeObserver observer, Kind kind, byte[] all, int from, int to,
      BufferKind bufferKind) {
    byte[] before = bytes("FOREIGN-");
    byte[] after = bytes("-TRAILING");
    int n = to - from;
    ByteBuf buf;
    switch (bufferKind) {
      case DIRECT -> buf = Unpooled.directBuffer(before.length + n + after.length);
      case COMPOSITE -> {
        CompositeByteBuf composite = Unpooled.compositeBuffer();
        // The readable range spans two components, cut in the middle.
        ByteBuf first = Unpooled.buffer().writeBytes(before).writeBytes(all, from, n / 2);
        ByteBuf second = Unpooled.buffer().writeBytes(all, from + n / 2, n - n / 2).writeBytes(after);
        composite.addComponents(true, first, second);
        buf = composite;
      }
      default -> buf = Unpooled.buffer(before.length + n + after.length);
    }
    if (bufferKind != BufferKind.COMPOSITE) {
      buf.writeBytes(before).writeBytes(all, from, n).writeBytes(after);
    }
    buf.readerIndex(before.length);
    buf.writerIndex(before.length + n);
    byte[] whole = new byte[before.length + n + after.length];
    buf.getBytes(0, whole);
    try {
      if (kind == Kind.CLIENT) {
        observer.fromClient(buf);
      } else {
        observer.fromEngine(buf);
      }
      assertEquals(before.length, buf.readerIndex(), "reader index moved");
      assertEquals(before.length + n, buf.writerIndex(), "writer index moved");
      byte[] now = new byte[whole.length];
      buf.getBytes(0, now);
      assertArrayEquals(whole, now, "buffer changed");
    } finally {
      buf.release();
    }
  }

  /** Writes down what the observer reports, one line per event; body content per request. */
  static final class Recorder implements HttpExchangeObserver.Listener {
    final List<String> events = new ArrayList<>();
    final List<RequestHead> requests = new ArrayList<>();
    private final Map<Long, ByteArrayOutputStream> bodies = new TreeMap<>();
    long engineOffset;
    long clientOffset;

    @Override
    public void request(RequestHead head) {
      requests.add(head);
      events.add("request #" + head.index() + " " + head.method() + " " + head.target());
    }

    @Override
    public void responseBegins(RequestHead request, long offset) {
      events.add("begins #" + request.index() + " @" + offset);
    }

    @Override
    public void responseHead(RequestHead request, int status, long offset) {
      events.add("head #" + request.index() + " " + status + " @" + offset);
    }

    @Override
    public void responseBody(RequestHead request, ByteBuf buf, int index, int length) {
      byte[] bytes = new byte[length];
      buf.getBytes(index, bytes);
      bodies.computeIfAbsent(request.index(), k -> new ByteArrayOutputStream()).writeBytes(bytes);
    }

    @Override
    public void responseComplete(RequestHead request) {
      events.add("complete #" + request.index());
    }

    @Override
    public void responseCut(RequestHead request, String why) {
      events.add("cut #" + request.index() + ": " + why);
    }

    @Override
    public void rawStream(RequestHead request, String why) {
      events.add("raw #" + request.index() + ": " + why);
    }

    @Override
    public void unparseable(HttpExchangeObserver.Direction direction, String why) {
      events.add("unparseable " + direction.label() + ": " + why);
    }

    /** Body content per request index, as text. */
    Map<Long, String> bodies() {
      Map<Long, String> text = new TreeMap<>();
      bodies.forEach((k, v) -> text.put(k, v.toString(StandardCharsets.ISO_8859_1)));
      return text;
    }
  }
}
