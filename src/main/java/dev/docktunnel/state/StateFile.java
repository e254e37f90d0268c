package dev.docktunnel.state;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code <host-id>.state.json} on disk. A write is atomic: the record goes to {@code
 * <name>.tmp} in the same dir, is fsynced, renamed over the file and the dir is fsynced, so a
 * crash at any moment leaves the old record or the new one, never a mix. A read never throws: a
 * file that cannot be a record of ours (empty, truncated, garbage, another version, over {@link
 * #MAX_BYTES}) is moved aside as {@code <name>.corrupt-<UTC time>} with a WARN naming the problem,
 * and the daemon starts fresh, rather than failing on every start. Blocking file I/O: call it off
 * the event loop. Not thread-safe: one owner, under the host's {@link InstanceLock}.
 */
public final class StateFile {

  private static final Logger LOG = LoggerFactory.getLogger(StateFile.class);
  /** Far above any real record (a few hundred bytes per forward); a bigger file is not ours. */
  public static final int MAX_BYTES = 4 * 1024 * 1024;
  static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
  private static final DateTimeFormatter ASIDE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final Path path;
  private final Path temp;
  private final Clock clock;

  /**
   * @param path {@code <host-id>.state.json}, in a dir of ours ({@link StateDir})
   * @param clock for the time in a corrupt file's new name
   */
  public StateFile(Path path, Clock clock) {
    this.path = Objects.requireNonNull(path, "path").toAbsolutePath().normalize();
    this.clock = Objects.requireNonNull(clock, "clock");
    this.temp = this.path.resolveSibling(this.path.getFileName() + ".tmp");
  }

  public Path path() {
    return path;
  }

  /** Where a write puts the record before the rename; left over only by a crash mid-write. */
  Path tempFile() {
    return temp;
  }

  /**
   * Replaces the record atomically (see the class comment); the file is 0600.
   *
   * @throws IOException naming the file, when it cannot be written; the old record is then kept
   */
  public void write(HostState state) throws IOException {
    byte[] bytes = (state.toJson().encodePrettily() + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      Files.deleteIfExists(temp);
      try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PRIVATE_FILE))) {
        // the umask only narrows the create mode; set it in case the file system ignored it
        Files.setPosixFilePermissions(temp, PRIVATE_FILE);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel dir = FileChannel.open(path.getParent(), StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw new IOException("Cannot write state file " + path + ": " + e, e);
    }
  }

  /**
   * The last record, or empty to start fresh: when there is none, or it was bad (moved aside,
   * WARN) or unreadable (WARN). Removes a temp file left by a crash mid-write. Never throws.
   */
  public Optional<HostState> read() {
    removeLeftoverTemp();
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      LOG.debug("No state file {} yet: starting fresh", path);
      return Optional.empty();
    } catch (IOException e) {
      LOG.warn("Cannot read state file {}: {}; starting fresh", path, e.toString());
      return Optional.empty();
    }
    if (bytes.length == 0) {
      return moveAside("it is empty");
    }
    if (bytes.length > MAX_BYTES) {
      return moveAside("it is over " + MAX_BYTES + " bytes");
    }
    JsonObject json;
    try {
      json = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return moveAside("it is not a JSON object (truncated or garbage): " + firstLine(e.getMessage()));
    }
    try {
      return Optional.of(HostState.fromJson(json));
    } catch (IllegalArgumentException e) {
      return moveAside(e.getMessage());
    }
  }

  private Optional<HostState> moveAside(String problem) {
    String stamp = ASIDE_TIME.format(clock.instant());
    for (int n = 0; n < 100; n++) {
      Path aside = path.resolveSibling(path.getFileName() + ".corrupt-" + stamp + (n == 0 ? "" : "-" + n));
      try {
        // no REPLACE_EXISTING: an earlier corrupt file of the same millisecond is kept
        Files.move(path, aside);
        LOG.warn("State file {} is unusable ({}); moved it aside as {} and starting fresh", path, problem,
            aside.getFileName());
        return Optional.empty();
      } catch (FileAlreadyExistsException e) {
        // same millisecond as an earlier one: next suffix
      } catch (IOException e) {
        LOG.warn("State file {} is unusable ({}) and cannot be moved aside: {}; starting fresh",
            path, problem, e.toString());
        return Optional.empty();
      }
    }
    LOG.warn("State file {} is unusable ({}) and no free name to move it aside; starting fresh",
        path, problem);
    return Optional.empty();
  }

  private void removeLeftoverTemp() {
    try {
      if (Files.deleteIfExists(temp)) {
        LOG.info("Removed {}, left by a write that did not finish (the state file itself is whole)", temp);
      }
    } catch (IOException e) {
      LOG.warn("Cannot remove leftover temp file {}: {}", temp, e.toString());
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    String line = newline < 0 ? message : message.substring(0, newline);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
