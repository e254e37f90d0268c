package dev.docktunnel.docker;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the body of {@code /events} into {@link DockerEvent}s. The engine writes one JSON object
 * per line, but transport boundaries (HTTP chunks, SSH packets) fall anywhere: a line may come in
 * pieces, or several in one piece. Lines are reassembled here with bounded memory: a line longer
 * than {@link #MAX_LINE_BYTES} is dropped while it streams past and counted, as is a line that is
 * not a usable event; the stream goes on either way. Single-threaded.
 */
final class EventStreamParser {
  /** Longest line we buffer: 1 MiB (real events are well under 64 KiB). */
  static final int MAX_LINE_BYTES = 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(EventStreamParser.class);
  private static final int LOGGED_PREFIX = 200;

  private final Consumer<DockerEvent> sink;
  private final int maxLineBytes;
  private Buffer partial = Buffer.buffer();
  /** True while skipping the rest of an oversized line, up to its newline. */
  private boolean discarding;
  private long malformed;
  private long oversized;

  EventStreamParser(Consumer<DockerEvent> sink) {
    this(sink, MAX_LINE_BYTES);
  }

  EventStreamParser(Consumer<DockerEvent> sink, int maxLineBytes) {
    this.sink = sink;
    this.maxLineBytes = maxLineBytes;
  }

  /** Consumes the next piece of the body; emits every line it completes. */
  void feed(Buffer chunk) {
    int length = chunk.length();
    int start = 0;
    while (start < length) {
      int newline = indexOf(chunk, (byte) '\n', start);
      int end = newline < 0 ? length : newline;
      if (discarding) {
        if (newline >= 0) {
          discarding = false;
        }
      } else if (partial.length() + (end - start) > maxLineBytes) {
        oversized++;
        LOG.warn("skipped an event line over {} bytes ({} oversized so far)", maxLineBytes,
            oversized);
        partial = Buffer.buffer();
        discarding = newline < 0;
      } else {
        partial.appendBuffer(chunk, start, end - start);
        if (newline >= 0) {
          Buffer line = partial;
          partial = Buffer.buffer();
          handleLine(line);
        }
      }
      start = newline < 0 ? length : newline + 1;
    }
  }

  /** The body ended: a last line without a newline still counts. */
  void end() {
    if (!discarding && partial.length() > 0) {
      Buffer line = partial;
      partial = Buffer.buffer();
      handleLine(line);
    }
    discarding = false;
  }

  long malformedLines() {
    return malformed;
  }

  long oversizedLines() {
    return oversized;
  }

  private void handleLine(Buffer line) {
    String text = line.toString(StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return;
    }
    Optional<DockerEvent> event;
    try {
      event = DockerEvent.fromJson(new JsonObject(text));
    } catch (DecodeException e) {
      skipMalformed(text, "not JSON");
      return;
    } catch (RuntimeException e) {
      // valid JSON of another shape ("null", an array): Vert.x fails in various ways
      skipMalformed(text, "not a JSON object");
      return;
    }
    if (event.isEmpty()) {
      skipMalformed(text, "no action or actor id");
      return;
    }
    sink.accept(event.get());
  }

  private void skipMalformed(String text, String why) {
    malformed++;
    String shown = text.length() > LOGGED_PREFIX ? text.substring(0, LOGGED_PREFIX) + "..." : text;
    LOG.warn("skipped a malformed event line ({}; {} malformed so far): {}", why, malformed,
        shown);
  }

  private static int indexOf(Buffer buffer, byte b, int from) {
    for (int i = from, n = buffer.length(); i < n; i++) {
      if (buffer.getByte(i) == b) {
        return i;
      }
    }
    return -1;
  }
}
