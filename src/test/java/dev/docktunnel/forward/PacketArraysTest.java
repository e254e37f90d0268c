package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketArraysTest {

  @Test
  void anArrayGivenBackIsTakenAgainAndThePoolStaysBounded() {
    List<byte[]> drained = new ArrayList<>();
    while (PacketArrays.kept() > 0) {
      drained.add(PacketArrays.take()); // other tests' arrays: start from an empty pool
    }
    byte[] first = PacketArrays.take();
    assertEquals(PacketArrays.ARRAY_SIZE, first.length);
    assertTrue(PacketArrays.ARRAY_SIZE >= PacketArrays.MAX_PAYLOAD + 5 + 13 + 32 + 64 + 8,
        "room for header, channel id and length, padding and a 512-bit MAC around the largest payload");
    PacketArrays.give(first);
    assertSame(first, PacketArrays.take(), "reused");
    PacketArrays.give(new byte[100]);
    assertEquals(0, PacketArrays.kept(), "a grown or foreign array is not kept");
    for (int i = 0; i < PacketArrays.KEPT + 10; i++) {
      PacketArrays.give(new byte[PacketArrays.ARRAY_SIZE]);
    }
    assertEquals(PacketArrays.KEPT, PacketArrays.kept(), "beyond the bound they are left to the GC");
  }
}
