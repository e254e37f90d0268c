package dev.docktunnel.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
  final List<String> frames = new ArrayList<>();
  final List<String> violations = new ArrayList<>();
  final FrameReader reader = new FrameReader(1024, f -> frames.add(f.toString()), violations::add);

  static Buffer frame(String text) {
    return Buffer.buffer().appendInt(text.length()).appendString(text);
  }

  @Test
  void framesSplitAnywhereAndSeveralInOneChunk() {
    Buffer all = Buffer.buffer().appendBuffer(frame("{\"a\":1}")).appendBuffer(frame("{}"))
        .appendBuffer(frame("{\"b\":2}"));
    for (int i = 0; i < all.length(); i++) {
      reader.handle(all.getBuffer(i, i + 1)); // one byte at a time, the worst split
    }
    reader.handle(all);
    assertEquals(List.of("{\"a\":1}", "{}", "{\"b\":2}", "{\"a\":1}", "{}", "{\"b\":2}"), frames);
    assertEquals(0, reader.bufferedBytes());
    assertTrue(violations.isEmpty());
  }

  @Test
  void aFrameAtTheCapPasses() {
    String text = "x".repeat(1024);
    reader.handle(frame(text));
    assertEquals(List.of(text), frames);
  }

  @Test
  void aLengthOverTheCapIsReportedOnceBeforeItsBytesAreHeld() {
    reader.handle(frame("{}"));
    reader.handle(Buffer.buffer().appendInt(1025));
    assertEquals(1, violations.size());
    assertTrue(violations.get(0).contains("1025 bytes"), violations.get(0));
    // what follows is ignored, never buffered
    reader.handle(Buffer.buffer(new byte[64 * 1024]));
    reader.handle(frame("{}"));
    assertEquals(0, reader.bufferedBytes());
    assertEquals(1, violations.size());
    assertEquals(List.of("{}"), frames);
  }

  @Test
  void aNegativeOrHugePrefixIsOverTheCap() {
    reader.handle(Buffer.buffer().appendInt(0x80000000)); // 2 GiB as unsigned, negative as int
    assertEquals(1, violations.size());
    assertTrue(violations.get(0).contains("2147483648 bytes"), violations.get(0));
  }
}
