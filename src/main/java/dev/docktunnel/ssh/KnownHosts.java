package dev.docktunnel.ssh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.config.hosts.KnownHostHashValue;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenSSH known_hosts file: looks host keys up with OpenSSH's rules (plain and hashed
 * {@code |1|} host names, {@code [host]:port} for ports other than 22, patterns, {@code @revoked}
 * lines) and appends new entries in OpenSSH's format. Reads the file on every lookup, so edits
 * by the user (or {@code ssh-keygen -R}) apply to the next connection.
 */
public final class KnownHosts {

  private static final Logger LOG = LoggerFactory.getLogger(KnownHosts.class);
  private static final String REVOKED = "revoked";

  private final Path file;
  /** Problems already logged, so a bad line is reported once, not on every lookup. */
  private final Set<String> warned = new java.util.HashSet<>();

  /** @param file the known_hosts file; it need not exist yet */
  public KnownHosts(Path file) {
    this.file = Objects.requireNonNull(file, "file");
  }

  /** The file this instance reads and appends to. */
  public Path file() {
    return file;
  }

  /** The outcome of a lookup. */
  public sealed interface Verdict permits Trusted, Unknown, Changed, Revoked {
  }

  /** The key is listed for the host, on {@code line} (1-based). */
  public record Trusted(int line) implements Verdict {
  }

  /**
   * No key of this type is listed for the host.
   *
   * @param otherKeyTypes key types that are listed for the host (empty: the host is not known at
   *     all)
   */
  public record Unknown(Set<String> otherKeyTypes) implements Verdict {
  }

  /**
   * A different key of the same type is listed for the host: the host key changed.
   *
   * @param line the first line (1-based) holding the listed key
   * @param knownKey that listed key
   */
  public record Changed(int line, PublicKey knownKey) implements Verdict {
  }

  /** The key is marked {@code @revoked} on {@code line} (1-based). */
  public record Revoked(int line) implements Verdict {
  }

  /** One parsed line. */
  private record Line(int number, KnownHostEntry entry, PublicKey key) {
  }

  /**
   * Looks {@code key} up for {@code host}:{@code port}.
   *
   * @param host the host name or address as connected to (compared case-insensitively)
   * @param port the port; 22 matches entries without a port
   * @throws IOException when the file exists but cannot be read
   */
  public Verdict check(String host, int port, PublicKey key) throws IOException {
    String name = host.toLowerCase(Locale.ROOT);
    String keyType = KeyUtils.getKeyType(key);
    List<Line> lines = read();
    // A revoked key is refused whatever else the file says, as in OpenSSH.
    for (Line line : lines) {
      if (REVOKED.equals(line.entry().getMarker()) && KeyUtils.compareKeys(line.key(), key)) {
        return new Revoked(line.number());
      }
    }
    Changed changed = null;
    Set<String> otherTypes = new LinkedHashSet<>();
    for (Line line : lines) {
      if (line.entry().getMarker() != null || !line.entry().isHostMatch(name, port)) {
        continue;
      }
      if (KeyUtils.compareKeys(line.key(), key)) {
        return new Trusted(line.number());
      }
      String listedType = KeyUtils.getKeyType(line.key());
      if (keyType.equals(listedType)) {
        if (changed == null) {
          changed = new Changed(line.number(), line.key());
        }
      } else {
        otherTypes.add(listedType);
      }
    }
    return changed != null ? changed : new Unknown(Set.copyOf(otherTypes));
  }

  /**
   * The key types listed for a host, in file order; used to prefer those host key algorithms in
   * the key exchange, as OpenSSH does. Empty when the file is missing or unreadable.
   */
  public List<String> knownKeyTypes(String host, int port) {
    String name = host.toLowerCase(Locale.ROOT);
    Set<String> types = new LinkedHashSet<>();
    try {
      for (Line line : read()) {
        if (line.entry().getMarker() == null && line.entry().isHostMatch(name, port)) {
          types.add(KeyUtils.getKeyType(line.key()));
        }
      }
    } catch (IOException e) {
      LOG.debug("cannot read {} to order host key algorithms: {}", file, e.toString());
    }
    return List.copyOf(types);
  }

  /**
   * Appends {@code host key} in OpenSSH format ({@code [host]:port} when the port is not 22),
   * creating the file (0600) and its directory (0700) when missing.
   *
   * @return the line written, without the line break
   */
  public String append(String host, int port, PublicKey key) throws IOException {
    String line = KnownHostHashValue.createHostPattern(host.toLowerCase(Locale.ROOT), port)
        + " " + PublicKeyEntry.toString(key);
    Path dir = file.toAbsolutePath().getParent();
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    if (dir != null && !Files.isDirectory(dir)) {
      if (posix) {
        Files.createDirectories(dir, asAttribute("rwx------"));
      } else {
        Files.createDirectories(dir);
      }
    }
    if (posix && !Files.exists(file)) {
      try {
        Files.createFile(file, asAttribute("rw-------"));
      } catch (java.nio.file.FileAlreadyExistsException raced) {
        // Someone else created it meanwhile; append below.
      }
    }
    try (FileChannel channel = FileChannel.open(file,
        StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      boolean needsBreak = false;
      if (size > 0) {
        ByteBuffer last = ByteBuffer.allocate(1);
        channel.read(last, size - 1);
        needsBreak = last.get(0) != '\n';
      }
      byte[] bytes = ((needsBreak ? "\n" : "") + line + "\n").getBytes(StandardCharsets.UTF_8);
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      long position = size;
      while (buffer.hasRemaining()) {
        position += channel.write(buffer, position);
      }
      channel.force(true);
    }
    return line;
  }

  private static FileAttribute<Set<PosixFilePermission>> asAttribute(String permissions) {
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions));
  }

  /**
   * Parses the file line by line. A line that is not UTF-8 or not an entry is skipped with a WARN
   * naming the file and line (once per distinct problem, as the file is read on every lookup);
   * the other lines still count, as in OpenSSH, which skips what it cannot parse.
   */
  private List<Line> read() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    List<Line> lines = new ArrayList<>();
    CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    int number = 0;
    for (int start = 0; start < bytes.length; ) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      number++;
      String raw;
      try {
        raw = utf8.decode(ByteBuffer.wrap(bytes, start, end - start)).toString().strip();
      } catch (CharacterCodingException e) {
        warnOnce(number, "is not UTF-8 text");
        raw = "";
      }
      start = end + 1;
      if (raw.isEmpty() || raw.charAt(0) == '#') {
        continue;
      }
      try {
        KnownHostEntry entry = KnownHostEntry.parseKnownHostEntry(raw);
        if (entry == null || entry.getKeyEntry() == null) {
          warnOnce(number, "is not a known_hosts entry");
          continue;
        }
        PublicKey key = entry.getKeyEntry().resolvePublicKey(null, null, PublicKeyEntryResolver.IGNORING);
        if (key != null) {
          lines.add(new Line(number, entry, key));
        }
      } catch (RuntimeException | IOException | java.security.GeneralSecurityException e) {
        warnOnce(number, "cannot be parsed (" + e.getMessage() + ")");
      }
    }
    return lines;
  }

  private void warnOnce(int number, String problem) {
    String warning = "line " + number + " of " + file + " " + problem + "; skipping it";
    synchronized (warned) {
      if (!warned.add(warning)) {
        return;
      }
    }
    LOG.warn("{}", warning);
  }
}
