package dev.docktunnel.bridge;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Splits a TCP byte stream into the bridge's frames: a 4-byte big-endian length, then that many
 * bytes of UTF-8 JSON (the wire format of Vert.x's TCP event-bus bridge). Unlike that module's
 * {@code FrameParser}, which appends every chunk to one buffer until the announced length has
 * arrived (so a prefix of 2 GiB makes it buffer without bound), the length is checked as soon as
 * its 4 bytes are in: over the cap, the reader reports the violation once and ignores everything
 * after it, never holding more than one capped frame plus one read chunk. Not thread-safe: one
 * connection's context.
 */
final class FrameReader implements Handler<Buffer> {
  private final int maxFrameBytes;
  private final Handler<Buffer> frames;
  private final Consumer<String> violation;
  private Buffer pending = Buffer.buffer();
  private int offset;
  private boolean broken;

  /**
   * @param frames gets each whole frame's payload (without the length)
   * @param violation gets one line naming the problem, once; nothing is read after it
   */
  FrameReader(int maxFrameBytes, Handler<Buffer> frames, Consumer<String> violation) {
    this.maxFrameBytes = maxFrameBytes;
    this.frames = frames;
    this.violation = violation;
  }

  @Override
  public void handle(Buffer chunk) {
    if (broken) {
      return;
    }
    pending.appendBuffer(chunk);
    while (!broken && pending.length() - offset >= 4) {
      long length = pending.getUnsignedInt(offset);
      if (length > maxFrameBytes) {
        broken = true;
        pending = Buffer.buffer();
        offset = 0;
        violation.accept("frame of " + length + " bytes is over the " + maxFrameBytes + "-byte cap");
        return;
      }
      if (pending.length() - offset - 4 < length) {
        break; // the rest of the frame is still to come; at most the cap is held
      }
      Buffer frame = pending.getBuffer(offset + 4, offset + 4 + (int) length);
      offset += 4 + (int) length;
      frames.handle(frame);
    }
    if (offset > 0) {
      pending = pending.getBuffer(offset, pending.length());
      offset = 0;
    }
  }

  /** Bytes held for a frame not yet complete. */
  int bufferedBytes() {
    return pending.length() - offset;
  }
}
