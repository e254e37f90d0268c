package dev.docktunnel.state;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One docktunnel per remote host: an exclusive {@link FileLock} on {@code <host-id>.lock}, held
 * for the process's life, with the holder's PID and how to reach it written into the file.
 *
 * <p><b>The hazard this class is built around.</b> On Linux a {@code FileLock} is a POSIX record
 * lock, owned by the process, not by the channel: closing <em>any</em> descriptor of the lock file
 * in this JVM (another {@code FileChannel}, a {@code Files.readString}, a stream) silently drops
 * the lock, and a second instance then starts beside us. So the lock file is opened exactly once
 * per process and that one channel is used for everything: writing our PID, reading the holder
 * back ({@link #holder()}). Another attempt in the same JVM is answered from a registry of the
 * locks we hold, without opening the file. Nothing else may open the lock file in this process;
 * read the holder through this class.
 *
 * <p>The lock file is left in place on {@link #close()}: deleting it would let a starting
 * instance lock the old inode while a third one creates a new file and locks that.
 */
public final class InstanceLock implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceLock.class);
  /** How long a refused attempt waits for a just-started holder to write its PID. */
  private static final long HOLDER_WAIT_NANOS = 300_000_000L;
  private static final int MAX_HOLDER_BYTES = 64 * 1024;
  private static final Set<StandardOpenOption> OPEN_OPTIONS =
      Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
  private static final FileAttribute<?> PRIVATE_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  /** The locks this JVM holds, by the lock file's identity (device and inode). Guarded by itself. */
  private static final Map<Object, InstanceLock> HELD = new HashMap<>();
  /**
   * Channels that must never be closed, since closing them would drop a lock this JVM holds
   * through some other channel (only after a {@link OverlappingFileLockException}). Guarded by
   * {@link #HELD}.
   */
  private static final List<FileChannel> NEVER_CLOSE = new ArrayList<>();

  private final Path path;
  private final Object fileKey;
  private final FileChannel channel;
  private final FileLock lock;
  private final Holder holder;

  private InstanceLock(Path path, Object fileKey, FileChannel channel, FileLock lock, Holder holder) {
    this.path = path;
    this.fileKey = fileKey;
    this.channel = channel;
    this.lock = lock;
    this.holder = holder;
  }

  /**
   * Who holds a lock.
   *
   * @param pid empty while a just-started holder has not written it yet
   * @param reach how to reach the holder, e.g. its state file
   */
  public record Holder(OptionalLong pid, String reach) {
    public Holder {
      Objects.requireNonNull(pid, "pid");
      Objects.requireNonNull(reach, "reach");
    }

    String toJson() {
      JsonObject json = new JsonObject().put("reach", reach);
      pid.ifPresent(p -> json.put("pid", p));
      return json.encode() + "\n";
    }

    /** Lenient: a lock file of an unknown shape yields an unknown PID, never an error. */
    static Holder parse(String text) {
      try {
        JsonObject json = new JsonObject(text.trim());
        Object pid = json.getValue("pid");
        Object reach = json.getValue("reach");
        return new Holder(
            pid instanceof Number n ? OptionalLong.of(n.longValue()) : OptionalLong.empty(),
            reach instanceof String s ? s : "");
      } catch (RuntimeException e) {
        return new Holder(OptionalLong.empty(), "");
      }
    }
  }

  /** The outcome of {@link #tryAcquire}. */
  public sealed interface Attempt permits Acquired, Held {}

  /** We hold the lock now; keep it for the process's life. */
  public record Acquired(InstanceLock lock) implements Attempt {}

  /**
   * Someone holds the lock: another process, or this one ({@code byThisProcess}).
   *
   * @param lockFile the lock file
   * @param holder the holder as its lock file says
   * @param byThisProcess true when this JVM already holds it
   */
  public record Held(Path lockFile, Holder holder, boolean byThisProcess) implements Attempt {
    /** One line for the user: who runs, how to reach it. */
    public String message() {
      String who = byThisProcess
          ? "this process (PID " + ProcessHandle.current().pid() + ")"
          : holder.pid().isPresent()
              ? "another docktunnel (PID " + holder.pid().getAsLong() + ")"
              : "another docktunnel (PID not written yet)";
      String reach = holder.reach().isEmpty() ? "" : "; see " + holder.reach();
      return "This host is already served by " + who + reach + " (lock " + lockFile + ")";
    }
  }

  /**
   * Tries once to take the lock, without waiting for it. On success our PID and {@code reach}
   * are written into the lock file through the locking channel. Blocking file I/O: call it off
   * the event loop.
   *
   * @param lockFile {@code <host-id>.lock}; created 0600 when missing
   * @param reach how others reach us, e.g. the state file's path
   * @throws IOException naming the lock file, when it cannot be opened, locked or written
   */
  public static Attempt tryAcquire(Path lockFile, String reach) throws IOException {
    Objects.requireNonNull(lockFile, "lockFile");
    Objects.requireNonNull(reach, "reach");
    Path path = lockFile.toAbsolutePath().normalize();
    synchronized (HELD) {
      InstanceLock ours = heldByUs(path);
      if (ours != null) {
        return new Held(path, ours.holder, true);
      }
      FileChannel channel;
      try {
        channel = FileChannel.open(path, OPEN_OPTIONS, PRIVATE_FILE);
      } catch (IOException e) {
        throw new IOException("Cannot open lock file " + path + ": " + e.getMessage(), e);
      }
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        // Locked in this JVM, but not through us. Closing this channel would drop that lock.
        NEVER_CLOSE.add(channel);
        LOG.warn("Lock file {} is locked by this JVM outside InstanceLock; keeping its channel open", path);
        return new Held(path, new Holder(OptionalLong.of(ProcessHandle.current().pid()), ""), true);
      } catch (IOException e) {
        closeQuietly(channel, path);
        throw new IOException("Cannot lock " + path + ": " + e.getMessage(), e);
      }
      if (lock == null) {
        Holder other = readHolderWaiting(channel, path);
        // Safe to close: this JVM holds no lock on this file (checked above).
        closeQuietly(channel, path);
        return new Held(path, other, false);
      }
      try {
        Holder holder = new Holder(OptionalLong.of(ProcessHandle.current().pid()), reach);
        byte[] bytes = holder.toJson().getBytes(StandardCharsets.UTF_8);
        channel.truncate(0);
        writeFully(channel, ByteBuffer.wrap(bytes));
        channel.force(true);
        Object fileKey = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        InstanceLock instanceLock = new InstanceLock(path, fileKey, channel, lock, holder);
        HELD.put(fileKey, instanceLock);
        LOG.info("Holding instance lock {} (PID {})", path, holder.pid().getAsLong());
        return new Acquired(instanceLock);
      } catch (IOException e) {
        closeQuietly(channel, path);
        throw new IOException("Cannot write our PID into lock file " + path + ": " + e.getMessage(), e);
      }
    }
  }

  public Path path() {
    return path;
  }

  /** True until {@link #close()}. */
  public boolean isValid() {
    return lock.isValid();
  }

  /**
   * The holder as the lock file says now, read through the one channel we hold (never by
   * opening the file again, see the class comment).
   */
  public Holder holder() throws IOException {
    synchronized (HELD) {
      return Holder.parse(readAll(channel));
    }
  }

  /** Releases the lock and closes its channel. The file stays (see the class comment). */
  @Override
  public void close() {
    synchronized (HELD) {
      if (HELD.get(fileKey) == this) {
        HELD.remove(fileKey);
      }
      closeQuietly(channel, path);
    }
  }

  private static InstanceLock heldByUs(Path path) throws IOException {
    if (HELD.isEmpty()) {
      return null;
    }
    try {
      Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      return HELD.get(key);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static Holder readHolderWaiting(FileChannel channel, Path path) {
    long deadline = System.nanoTime() + HOLDER_WAIT_NANOS;
    while (true) {
      try {
        Holder holder = Holder.parse(readAll(channel));
        if (holder.pid().isPresent() || System.nanoTime() - deadline > 0) {
          return holder;
        }
        Thread.sleep(20);
      } catch (IOException e) {
        LOG.warn("Cannot read the holder from lock file {}: {}", path, e.toString());
        return new Holder(OptionalLong.empty(), "");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Holder(OptionalLong.empty(), "");
      }
    }
  }

  private static String readAll(FileChannel channel) throws IOException {
    long size = Math.min(channel.size(), MAX_HOLDER_BYTES);
    ByteBuffer buffer = ByteBuffer.allocate((int) size);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, buffer.position()) < 0) {
        break;
      }
    }
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    long position = 0;
    while (buffer.hasRemaining()) {
      position += channel.write(buffer, position);
    }
  }

  private static void closeQuietly(FileChannel channel, Path path) {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("Cannot close lock file {}: {}", path, e.toString());
    }
  }
}
