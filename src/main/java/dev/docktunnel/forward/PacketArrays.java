package dev.docktunnel.forward;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Reused byte arrays for outgoing CHANNEL_DATA packets. MINA's {@code createBuffer} allocates a
 * new zeroed array per packet (32 KiB at OpenSSH's packet size: at 4 Gbit/s some 15,000 a second,
 * the young generation's whole budget under -Xmx64m); these arrays go back here once their packet
 * is on the wire. Bounded, so an idle proxy keeps little: beyond {@link #KEPT} an array is left to
 * the GC. Any thread (packets are built on the Netty loops and written by MINA's threads).
 */
final class PacketArrays {
  /**
   * Room for the largest data payload OpenSSH's sshd allows (32 KiB) plus the packet's header,
   * channel id, length, padding and MAC or tag, so the cipher works in place without growing it.
   */
  static final int ARRAY_SIZE = 32 * 1024 + 256;
  /** The payload that still fits one array. */
  static final int MAX_PAYLOAD = 32 * 1024;
  /** Arrays kept for reuse: the in-flight bound of two busy connections (2 MiB). */
  static final int KEPT = 64;

  private static final ArrayBlockingQueue<byte[]> FREE = new ArrayBlockingQueue<>(KEPT);

  private PacketArrays() {
  }

  /** An array of {@link #ARRAY_SIZE} bytes; its old content is left (the packet overwrites what it uses). */
  static byte[] take() {
    byte[] array = FREE.poll();
    return array != null ? array : new byte[ARRAY_SIZE];
  }

  /** Gives back an array from {@link #take} once nothing reads it any more. */
  static void give(byte[] array) {
    if (array.length == ARRAY_SIZE) {
      FREE.offer(array);
    }
  }

  /** How many arrays wait for reuse now (tests). */
  static int kept() {
    return FREE.size();
  }
}
