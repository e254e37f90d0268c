package dev.docktunnel.cli;

import dev.docktunnel.state.HostState;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The daemon process a state file names, proven before anything signals it: a PID in an old
 * state file may have been reused by an unrelated process, which must never get our SIGTERM.
 */
final class DaemonProcess {
  /** /proc start times are in clock ticks from a boot time known to the second. */
  private static final Duration START_SLACK = Duration.ofSeconds(2);

  private DaemonProcess() {
  }

  /**
   * Why {@code state.pid()} is not provably the docktunnel serving this host, or empty when it
   * is: it is alive, the host's lock file is locked by another process, the lock file names the
   * same PID, and (when the system tells) the process started before the state file's {@code
   * startedAt}.
   */
  static Optional<String> whyNotOurs(HostState state, Path lockFile) {
    long pid = state.pid();
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()) {
      return Optional.of("PID " + pid + " is gone");
    }
    try {
      if (!lockHeldByAnother(lockFile)) {
        return Optional.of("lock " + lockFile + " is not held, so PID " + pid
            + " is not a docktunnel serving this host (the PID was reused)");
      }
      Optional<Long> holder = lockHolderPid(lockFile);
      if (holder.isEmpty() || holder.get() != pid) {
        return Optional.of("lock " + lockFile + " is held by PID " + holder.map(String::valueOf).orElse("(not written)")
            + ", not by PID " + pid + " of the state file");
      }
    } catch (IOException e) {
      return Optional.of("cannot check lock " + lockFile + ": " + e.getMessage());
    }
    Optional<Instant> started = process.get().info().startInstant();
    if (started.isPresent() && started.get().isAfter(state.startedAt().plus(START_SLACK))) {
      return Optional.of("PID " + pid + " started at " + started.get() + ", after the daemon of the state file ("
          + state.startedAt() + "): the PID was reused");
    }
    return Optional.empty();
  }

  /**
   * True when another process holds the lock file's lock. Asks with a shared lock taken and
   * released at once (a docktunnel starting in that instant would find the host taken and exit
   * 1; this is only asked on the way to a signal, when a daemon is believed to run). This process
   * must hold no lock on the file: closing our descriptor drops every lock this JVM has on it.
   */
  static boolean lockHeldByAnother(Path lockFile) throws IOException {
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ)) {
      FileLock lock = channel.tryLock(0, Long.MAX_VALUE, true);
      if (lock == null) {
        return true;
      }
      lock.release();
      return false;
    } catch (NoSuchFileException e) {
      return false;
    } catch (OverlappingFileLockException e) {
      throw new IOException("this process itself holds it", e);
    }
  }

  /** The PID the lock's holder wrote into the lock file ({@code {"pid": N, ...}}). */
  static Optional<Long> lockHolderPid(Path lockFile) throws IOException {
    String text = Files.readString(lockFile, StandardCharsets.UTF_8).trim();
    try {
      Object pid = new JsonObject(text).getValue("pid");
      return pid instanceof Number n ? Optional.of(n.longValue()) : Optional.empty();
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }
}
