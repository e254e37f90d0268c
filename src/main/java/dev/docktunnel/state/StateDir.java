package dev.docktunnel.state;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state dir (default {@code ~/.docktunnel}) and one host's paths in it: {@code
 * <host-id>.state.json}, {@code <host-id>.lock} and the socket folder {@code <host-id>/}. Both
 * directories are ours and private (0700): a dir that is a symlink, not a directory, or owned by
 * someone else is refused, since another user could then read our state or plant sockets; a
 * wider mode on a dir we own is narrowed with a WARN.
 */
public final class StateDir {

  private static final Logger LOG = LoggerFactory.getLogger(StateDir.class);
  /** How a host's state file name ends: {@code <host-id>.state.json}. */
  public static final String STATE_FILE_SUFFIX = ".state.json";
  /** The local Docker API socket's name in the socket folder (issue 9's contract; 0600). */
  public static final String DOCKER_SOCKET = "docker.sock";
  static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
  /** The file-type bits of {@code unix:mode} and the type of a socket (from stat(2)). */
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private final Path dir;
  private final HostId hostId;
  private final UserPrincipal us;

  private StateDir(Path dir, HostId hostId, UserPrincipal us) {
    this.dir = dir;
    this.hostId = hostId;
    this.us = us;
  }

  /**
   * Creates (or checks) the state dir and the host's socket folder, both 0700. Blocking file
   * I/O: call it off the event loop.
   *
   * @throws StateDirException naming the path, when a dir is a symlink, not a directory, owned
   *     by another user, or cannot be created
   */
  public static StateDir open(Path dir, HostId hostId) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(hostId, "hostId");
    Path absolute = dir.toAbsolutePath().normalize();
    UserPrincipal us = currentUser(absolute);
    ensurePrivateDir("State dir", absolute, us);
    StateDir stateDir = new StateDir(absolute, hostId, us);
    ensurePrivateDir("Socket folder", stateDir.socketDir(), us);
    return stateDir;
  }

  public Path dir() {
    return dir;
  }

  public HostId hostId() {
    return hostId;
  }

  /** {@code <host-id>.state.json}. */
  public Path stateFile() {
    return stateFileIn(dir, hostId);
  }

  /** {@code <host-id>.lock}. */
  public Path lockFile() {
    return lockFileIn(dir, hostId);
  }

  /** A host's state file in {@code dir}, without opening or creating anything (for readers). */
  public static Path stateFileIn(Path dir, HostId hostId) {
    return dir.resolve(hostId.value() + STATE_FILE_SUFFIX);
  }

  /** A host's lock file in {@code dir}, without opening or creating anything (for readers). */
  public static Path lockFileIn(Path dir, HostId hostId) {
    return dir.resolve(hostId.value() + ".lock");
  }

  /**
   * The hosts that have a state file in {@code dir}, sorted by id; empty when the dir does not
   * exist. Reads only: nothing is created, checked or moved (the daemons own their files). Names
   * that are not {@code <host-id>.state.json} (temp files, files moved aside) are not hosts.
   *
   * @throws IOException naming the dir, when it exists but cannot be listed
   */
  public static List<HostId> hostsIn(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return List.of();
    }
    List<HostId> hosts = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + STATE_FILE_SUFFIX)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        String id = name.substring(0, name.length() - STATE_FILE_SUFFIX.length());
        if (HostId.isValid(id) && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
          hosts.add(new HostId(id));
        }
      }
    } catch (IOException e) {
      throw new IOException("Cannot list state dir " + dir + ": " + e.getMessage(), e);
    }
    hosts.sort(Comparator.comparing(HostId::value));
    return hosts;
  }

  /** {@code <host-id>/}, for the sockets of this host's run. */
  public Path socketDir() {
    return dir.resolve(hostId.value());
  }

  /** {@code <host-id>/docker.sock}, the local Docker API socket of this host's run. */
  public Path dockerSocket() {
    return dockerSocketIn(dir, hostId);
  }

  /**
   * A host's Docker socket in {@code dir}, without opening or creating anything (for readers such
   * as {@code docker-env}): the path is stable whether or not the daemon runs.
   */
  public static Path dockerSocketIn(Path dir, HostId hostId) {
    return dir.resolve(hostId.value()).resolve(DOCKER_SOCKET);
  }

  /**
   * Removes the sockets a crashed run left in {@link #socketDir()}, but only what is surely ours:
   * a socket (not a symlink, not a regular file, not a directory) owned by us. Anything else is
   * left alone with a WARN naming it. Call it only while holding the host's {@link
   * InstanceLock}, or a live run's sockets go too.
   *
   * @return how many sockets were removed
   */
  public int removeLeftoverSockets() {
    int removed = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(socketDir())) {
      for (Path entry : entries) {
        if (removeIfOurSocket(entry)) {
          removed++;
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot list the socket folder {} to remove leftover sockets: {}", socketDir(), e.toString());
    }
    return removed;
  }

  private boolean removeIfOurSocket(Path entry) {
    try {
      if (Files.isSymbolicLink(entry)) {
        LOG.warn("Leaving {} alone: a symlink in the socket folder, not a socket of ours", entry);
        return false;
      }
      int mode = (Integer) Files.getAttribute(entry, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if ((mode & S_IFMT) != S_IFSOCK) {
        LOG.warn("Leaving {} alone: not a socket (mode {}), so not left by a run of ours", entry,
            Integer.toOctalString(mode));
        return false;
      }
      UserPrincipal owner = Files.getOwner(entry, LinkOption.NOFOLLOW_LINKS);
      if (!owner.equals(us)) {
        LOG.warn("Leaving socket {} alone: owned by {}, not by us ({})",
            entry, owner.getName(), us.getName());
        return false;
      }
      Files.delete(entry);
      LOG.info("Removed leftover socket {} of an earlier run", entry);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException | RuntimeException e) {
      LOG.warn("Cannot check or remove leftover socket {}: {}", entry, e.toString());
      return false;
    }
  }

  private static void ensurePrivateDir(String what, Path path, UserPrincipal us) {
    try {
      if (Files.isSymbolicLink(path)) {
        throw new StateDirException(
            what + " " + path + " is a symlink; docktunnel keeps its state only in a real directory it owns");
      }
      if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        create(path);
      }
      if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        throw new StateDirException(what + " " + path + " exists but is not a directory");
      }
      UserPrincipal owner = Files.getOwner(path, LinkOption.NOFOLLOW_LINKS);
      if (!owner.equals(us)) {
        throw new StateDirException(what + " " + path + " is owned by " + owner.getName()
            + ", not by " + us.getName() + "; use a dir of your own (stateDir)");
      }
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      if (!mode.equals(PRIVATE_DIR)) {
        LOG.warn("{} {} had mode {}; setting it to rwx------ (0700)", what, path,
            PosixFilePermissions.toString(mode));
        Files.setPosixFilePermissions(path, PRIVATE_DIR);
      }
    } catch (IOException e) {
      throw new StateDirException(
          "Cannot prepare " + what.toLowerCase(Locale.ROOT) + " " + path + ": " + e, e);
    }
  }

  private static void create(Path path) throws IOException {
    Path parent = path.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
    } catch (FileAlreadyExistsException e) {
      // created by someone else in between: checked like any existing dir
    }
  }

  /** The user this process runs as, for the ownership checks. */
  private static UserPrincipal currentUser(Path dir) {
    String name = System.getProperty("user.name");
    try {
      return dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
    } catch (IOException e) {
      throw new StateDirException(
          "Cannot look up the current user '" + name + "' to check " + dir + ": " + e, e);
    }
  }

  /** A state dir that cannot be used; the message names the path and the problem. */
  public static final class StateDirException extends RuntimeException {
    public StateDirException(String message) {
      super(message);
    }

    public StateDirException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
