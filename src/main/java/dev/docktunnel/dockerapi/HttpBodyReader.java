package dev.docktunnel.dockerapi;

import io.netty.buffer.ByteBuf;

/**
 * Follows one HTTP/1.x message body (RFC 9112 section 6 and 7) as its bytes pass, to find where it
 * ends: a Content-Length count, chunked coding (with chunk extensions and trailer fields), or the
 * end of the connection. Body bytes are skipped in bulk, never copied; only counters are kept.
 * Single-threaded.
 */
final class HttpBodyReader {
  /** Receives the body's content (chunk framing removed); the bytes are valid only during the call. */
  interface Sink {
    void content(ByteBuf buf, int index, int length);
  }

  /** Longest chunk-size line (size and extensions) accepted. */
  static final int MAX_CHUNK_LINE = 4096;
  /** Most bytes of trailer fields accepted. */
  static final int MAX_TRAILER_BYTES = 64 * 1024;
  private static final int MAX_SIZE_DIGITS = 15; // 2^60: no real chunk is near, and no overflow

  private enum Mode { LENGTH, CHUNKED, UNTIL_CLOSE }

  private enum Chunk { SIZE, SIZE_END, EXTENSION, LF, DATA, DATA_CR, DATA_LF, TRAILER }

  private Mode mode;
  private long remaining;
  private Chunk chunk;
  private int digits;
  private int lineBytes;
  private int trailerBytes;
  private boolean trailerLineHasContent;
  private boolean complete;
  private String error;

  /** A body of exactly {@code length} bytes; complete at once when 0. */
  void length(long length) {
    start(Mode.LENGTH);
    remaining = length;
    complete = length == 0;
  }

  /** A chunked body. */
  void chunked() {
    start(Mode.CHUNKED);
    chunk = Chunk.SIZE;
  }

  /** A body that ends with the connection. */
  void untilClose() {
    start(Mode.UNTIL_CLOSE);
  }

  boolean isUntilClose() {
    return mode == Mode.UNTIL_CLOSE;
  }

  boolean isComplete() {
    return complete;
  }

  /** Why the body cannot be followed, or null. */
  String error() {
    return error;
  }

  /**
   * Reads from {@code buf} between the absolute indexes {@code from} and {@code to}, without
   * moving its indexes. Stops after the body's last byte, or on an error.
   *
   * @param sink receives the content, or null
   * @return the index after the last byte consumed
   */
  int feed(ByteBuf buf, int from, int to, Sink sink) {
    switch (mode) {
      case LENGTH -> {
        int n = (int) Math.min(remaining, to - from);
        content(sink, buf, from, n);
        remaining -= n;
        complete = remaining == 0;
        return from + n;
      }
      case UNTIL_CLOSE -> {
        content(sink, buf, from, to - from);
        return to;
      }
      default -> {
        return chunked(buf, from, to, sink);
      }
    }
  }

  private int chunked(ByteBuf buf, int from, int to, Sink sink) {
    int i = from;
    while (i < to && !complete && error == null) {
      switch (chunk) {
        case SIZE -> {
          byte b = buf.getByte(i);
          int hex = hex(b);
          if (hex >= 0) {
            if (++digits > MAX_SIZE_DIGITS) {
              return fail(i, "chunk size over " + MAX_SIZE_DIGITS + " hex digits");
            }
            remaining = remaining * 16 + hex;
            lineBytes++;
            i++;
          } else if (digits == 0) {
            return fail(i, "chunk size expected, got " + HttpExchangeObserver.quote(b));
          } else {
            chunk = Chunk.SIZE_END;
          }
        }
        case SIZE_END -> {
          byte b = buf.getByte(i);
          if (b == ' ' || b == '\t') {
            i = sizeLineByte(i); // BWS before a chunk extension
          } else if (b == ';') {
            chunk = Chunk.EXTENSION;
            i = sizeLineByte(i);
          } else if (b == '\r') {
            chunk = Chunk.LF;
            i = sizeLineByte(i);
          } else if (b == '\n') {
            i = endOfSizeLine(i);
          } else {
            return fail(i, "bad character " + HttpExchangeObserver.quote(b) + " after the chunk size");
          }
        }
        case EXTENSION -> {
          // Extensions are not interpreted; they run to the end of the line.
          int lf = buf.indexOf(i, to, (byte) '\n');
          int end = lf < 0 ? to : lf;
          lineBytes += end - i;
          if (lineBytes > MAX_CHUNK_LINE) {
            return fail(end, "chunk-size line over " + MAX_CHUNK_LINE + " bytes");
          }
          i = lf < 0 ? to : endOfSizeLine(lf);
        }
        case LF -> {
          if (buf.getByte(i) != '\n') {
            return fail(i, "CR without LF after the chunk size");
          }
          i = endOfSizeLine(i);
        }
        case DATA -> {
          int n = (int) Math.min(remaining, to - i);
          content(sink, buf, i, n);
          remaining -= n;
          i += n;
          if (remaining == 0) {
            chunk = Chunk.DATA_CR;
          }
        }
        case DATA_CR -> {
          byte b = buf.getByte(i);
          if (b == '\r') {
            chunk = Chunk.DATA_LF;
            i++;
          } else if (b == '\n') {
            chunk = Chunk.SIZE;
            i++;
          } else {
            return fail(i, "chunk data not followed by CRLF (got " + HttpExchangeObserver.quote(b) + ")");
          }
        }
        case DATA_LF -> {
          byte b = buf.getByte(i);
          if (b != '\n') {
            return fail(i, "chunk data not followed by CRLF (got CR " + HttpExchangeObserver.quote(b) + ")");
          }
          chunk = Chunk.SIZE;
          i++;
        }
        case TRAILER -> {
          // Trailer fields are not interpreted: an empty line (LF or CRLF) ends them.
          int lf = buf.indexOf(i, to, (byte) '\n');
          int end = lf < 0 ? to : lf;
          trailerBytes += end - i + (lf < 0 ? 0 : 1);
          if (trailerBytes > MAX_TRAILER_BYTES) {
            return fail(end, "chunked trailer over " + MAX_TRAILER_BYTES + " bytes");
          }
          for (int k = i; k < end && !trailerLineHasContent; k++) {
            trailerLineHasContent = buf.getByte(k) != '\r' || k + 1 < end;
          }
          if (lf < 0) {
            return to;
          }
          complete = !trailerLineHasContent;
          trailerLineHasContent = false;
          i = lf + 1;
        }
        default -> throw new IllegalStateException("chunk state " + chunk);
      }
    }
    return i;
  }

  private int sizeLineByte(int i) {
    lineBytes++;
    if (lineBytes > MAX_CHUNK_LINE) {
      return fail(i, "chunk-size line over " + MAX_CHUNK_LINE + " bytes");
    }
    return i + 1;
  }

  /** {@code lf} is the index of the LF that ends a chunk-size line. */
  private int endOfSizeLine(int lf) {
    chunk = remaining == 0 ? Chunk.TRAILER : Chunk.DATA;
    digits = 0;
    lineBytes = 0;
    return lf + 1;
  }

  private int fail(int i, String why) {
    error = why;
    return i;
  }

  private void start(Mode m) {
    mode = m;
    remaining = 0;
    digits = 0;
    lineBytes = 0;
    trailerBytes = 0;
    trailerLineHasContent = false;
    complete = false;
    error = null;
  }

  private static void content(Sink sink, ByteBuf buf, int index, int length) {
    if (sink != null && length > 0) {
      sink.content(buf, index, length);
    }
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }
}
