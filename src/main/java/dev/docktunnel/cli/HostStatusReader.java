package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateFile;
import dev.docktunnel.state.StatusDocument;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.function.LongPredicate;

/**
 * Finds one host's status: asks the daemon ({@code GET /status}) when its state file says it is
 * live and records the HTTP port; falls back to the file, with a warning, when the file is stale
 * or the daemon does not answer. Reads the file without changing anything: the daemon owns it
 * (no moving aside, no temp cleanup, unlike {@link StateFile#read()}).
 */
final class HostStatusReader {

  /** {@code GET /status} of the daemon on a port; {@link DaemonClient#status} in real use. */
  @FunctionalInterface
  interface StatusFetcher {
    JsonObject status(int port) throws IOException, InterruptedException;
  }

  private final StatusFetcher daemon;
  private final Clock clock;
  private final LongPredicate pidAlive;

  HostStatusReader(StatusFetcher daemon, Clock clock, LongPredicate pidAlive) {
    this.daemon = Objects.requireNonNull(daemon, "daemon");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.pidAlive = Objects.requireNonNull(pidAlive, "pidAlive");
  }

  /** True when a process with this PID exists now. */
  static boolean pidAlive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  HostStatus read(HostOptions.KnownHost host) throws InterruptedException {
    HostState file;
    try {
      file = readStateFile(host.stateFile());
    } catch (NoSuchFileException e) {
      return new HostStatus(host, null, null, "not running (no state file)", "docktunnel: no state for host "
          + host.label() + " in " + host.stateFile().getParent() + " (looked for " + host.stateFile().getFileName()
          + "): docktunnel has not run for it with this state dir");
    } catch (IOException e) {
      return new HostStatus(host, null, null, "state file unusable", "docktunnel: " + e.getMessage());
    }
    Instant now = clock.instant();
    Liveness liveness = Liveness.of(file, now, pidAlive);
    if (!liveness.live()) {
      return fromFile(host, file, liveness.reason(), liveness.warning(file.host(), host.stateFile()));
    }
    String unanswered;
    if (file.httpPort() == null) {
      unanswered = "its state file records no HTTP port (yet)";
    } else {
      try {
        JsonObject document = daemon.status(file.httpPort());
        HostState state = HostState.fromJson(document);
        if (state.pid() == file.pid() && Integer.valueOf(StatusDocument.SCHEMA).equals(document.getValue("schema"))) {
          return new HostStatus(host, document, state, null, null);
        }
        unanswered = DaemonClient.uri(file.httpPort(), "/status") + " answered for PID " + state.pid()
            + " with schema " + document.getValue("schema") + ", not PID " + file.pid() + " with schema "
            + StatusDocument.SCHEMA;
      } catch (IOException e) {
        unanswered = e.getMessage();
      } catch (IllegalArgumentException e) {
        unanswered = DaemonClient.uri(file.httpPort(), "/status") + " answered a bad status document: "
            + e.getMessage();
      }
    }
    // Fresh file, silent daemon: running as far as anyone can tell, so not stale; said on stderr.
    return fromFile(host, file, null, "docktunnel: host " + file.host() + " (PID " + file.pid()
        + ") did not answer: " + unanswered + "; showing its state file " + host.stateFile() + ", written at "
        + file.updatedAt().truncatedTo(ChronoUnit.SECONDS));
  }

  private static HostStatus fromFile(HostOptions.KnownHost host, HostState file, String notRunning, String warning) {
    return new HostStatus(host, StatusDocument.fromFile(file, notRunning != null, notRunning), file, notRunning,
        warning);
  }

  /**
   * The record in a state file, read only.
   *
   * @throws NoSuchFileException when there is no file
   * @throws IOException naming the file and the problem, when it cannot be read or is not a record
   */
  static HostState readStateFile(Path file) throws IOException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(StateFile.MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException("cannot read state file " + file + ": " + e.getMessage(), e);
    }
    if (bytes.length > StateFile.MAX_BYTES) {
      throw new IOException("state file " + file + " is over " + StateFile.MAX_BYTES + " bytes: not a record of ours");
    }
    try {
      return HostState.fromJson(new JsonObject(new String(bytes, StandardCharsets.UTF_8)));
    } catch (IllegalArgumentException e) {
      throw new IOException("state file " + file + " is not a usable record: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new IOException("state file " + file + " is not a JSON object (empty, truncated or garbage)", e);
    }
  }
}
