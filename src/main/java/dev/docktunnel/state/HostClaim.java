package dev.docktunnel.state;

import dev.docktunnel.ssh.SshTarget;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code docktunnel run} holds for one remote host while it lives: the state dir, the
 * instance lock (for the process's life: only {@link InstanceLock} ever opens the lock file) and
 * the state file, with the last run's record when there is a usable one. Blocking file I/O: call
 * it before Vert.x starts.
 *
 * @param dir the state dir and the host's paths in it
 * @param lock the held lock
 * @param stateFile where the record is written
 * @param previous the last run's record; empty on a first run or after a bad file was moved aside
 */
public record HostClaim(StateDir dir, InstanceLock lock, StateFile stateFile, Optional<HostState> previous) {
  private static final Logger LOG = LoggerFactory.getLogger(HostClaim.class);

  /** Another docktunnel serves this host; the message names its PID and how to reach it. */
  public static final class AlreadyServedException extends Exception {
    AlreadyServedException(String message) {
      super(message);
    }
  }

  /**
   * Claims {@code target} in {@code stateDir}.
   *
   * @throws AlreadyServedException when another process holds the host's lock
   * @throws StateDir.StateDirException when the state dir is unsafe or unusable (names the path)
   * @throws IOException when the lock file cannot be opened or written
   */
  public static HostClaim claim(Path stateDir, SshTarget target, Clock clock)
      throws AlreadyServedException, IOException {
    StateDir dir = StateDir.open(stateDir, HostId.of(target));
    InstanceLock.Attempt attempt = InstanceLock.tryAcquire(dir.lockFile(), "state file " + dir.stateFile());
    if (attempt instanceof InstanceLock.Held held) {
      throw new AlreadyServedException(held.message());
    }
    InstanceLock lock = ((InstanceLock.Acquired) attempt).lock();
    int removed = dir.removeLeftoverSockets();
    if (removed > 0) {
      LOG.info("removed {} socket(s) left in {} by a run that did not stop cleanly", removed, dir.socketDir());
    }
    StateFile stateFile = new StateFile(dir.stateFile(), clock);
    Optional<HostState> previous = stateFile.read();
    previous.ifPresent(p -> LOG.info("last run's state: {} forward(s), {}", p.forwards().size(),
        p.running() ? "it did not stop cleanly (PID " + p.pid() + ")" : "stopped at " + p.stoppedAt()));
    return new HostClaim(dir, lock, stateFile, previous);
  }
}
