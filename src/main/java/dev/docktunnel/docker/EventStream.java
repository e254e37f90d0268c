package dev.docktunnel.docker;

/** A running {@code /events} stream; see {@link DockerEngine#events}. */
public interface EventStream {

  /**
   * Stops the stream and closes its channel. Idempotent; after it returns the event and end
   * handlers are not called any more.
   */
  void cancel();

  /** Lines of this stream that were not a usable event (bad JSON, no action or id); skipped. */
  long malformedLines();

  /** Lines of this stream longer than 1 MiB; skipped without being buffered. */
  long oversizedLines();
}
