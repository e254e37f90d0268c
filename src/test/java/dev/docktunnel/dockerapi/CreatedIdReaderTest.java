package dev.docktunnel.dockerapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CreatedIdReaderTest {
  static final String ID = "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2";

  static CreatedIdReader fed(String body, int pieceSize) {
    CreatedIdReader reader = new CreatedIdReader();
    ByteBuf buf = Unpooled.copiedBuffer("xx" + body + "yy", StandardCharsets.UTF_8);
    for (int at = 0; at < body.length(); at += pieceSize) {
      reader.feed(buf, 2 + at, Math.min(pieceSize, body.length() - at));
    }
    assertEquals(0, buf.readerIndex());
    return reader;
  }

  @Test
  void readsTheIdFromPiecesAnywhereInTheObject() {
    String body = "{\"Warnings\":[\"a\"],\"Id\":\"" + ID + "\"}\n";
    for (int piece = 1; piece <= body.length(); piece++) {
      assertEquals(ID, fed(body, piece).id(), "pieces of " + piece);
    }
  }

  @Test
  void aBadBodyIsAClearError() {
    assertEquals("create response body has no container id in \"Id\": absent",
        assertThrows(IllegalArgumentException.class, () -> fed("{\"Warnings\":[]}", 5).id()).getMessage());
    assertEquals("create response body has no container id in \"Id\": \"NOT-AN-ID\"",
        assertThrows(IllegalArgumentException.class, () -> fed("{\"Id\":\"NOT-AN-ID\"}", 5).id()).getMessage());
    assertEquals("create response body is not a JSON object: ",
        assertThrows(IllegalArgumentException.class, () -> fed("[1,2]", 5).id()).getMessage()
            .substring(0, "create response body is not a JSON object: ".length()));
    assertEquals("create response body is not a JSON object: ",
        assertThrows(IllegalArgumentException.class, () -> fed("{\"Id\":", 5).id()).getMessage()
            .substring(0, "create response body is not a JSON object: ".length()));
  }

  @Test
  void aBodyOverTheBoundIsNotKept() {
    String body = "{\"Id\":\"" + ID + "\",\"Pad\":\"" + "p".repeat(CreatedIdReader.MAX_BODY_BYTES) + "\"}";
    assertEquals("create response body is " + body.length() + " bytes, over the 65536 read for its Id",
        assertThrows(IllegalArgumentException.class, () -> fed(body, 4096).id()).getMessage());
  }
}
