package dev.docktunnel.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The per-install secret that every state-changing HTTP request must carry
 * ({@code Authorization: Bearer <token>}): 32 random bytes in {@code <state-dir>/api-token}, mode
 * 0600, made on first use. Anyone who can read it is the user already; a web page or another
 * local user cannot. Blocking file I/O: off the event loop.
 */
public final class ApiToken {
  /** The file's name in the state dir. */
  public static final String FILE_NAME = "api-token";
  private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

  private final byte[] value;

  private ApiToken(String value) {
    this.value = value.getBytes(StandardCharsets.US_ASCII);
  }

  /** The token's text, for a client's header. */
  public String text() {
    return new String(value, StandardCharsets.US_ASCII);
  }

  /** True when {@code header} is {@code Bearer <this token>}; constant-time in the token. */
  public boolean matchesHeader(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    return MessageDigest.isEqual(value, header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Reads the state dir's token, making it first when there is none.
   *
   * @throws IOException naming the file, when it cannot be made or read, or is not private
   */
  public static ApiToken loadOrCreate(Path stateDir) throws IOException {
    if (!Files.isDirectory(stateDir)) {
      // `run` made and checked it already (StateDir); an embedding or test may not have.
      Files.createDirectories(stateDir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
    }
    Path file = stateDir.resolve(FILE_NAME);
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      String text = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      try {
        Files.writeString(Files.createFile(file, PosixFilePermissions.asFileAttribute(PRIVATE)), text + "\n");
      } catch (FileAlreadyExistsException raced) {
        // another docktunnel of this install made it meanwhile: read theirs
      }
    }
    return read(stateDir);
  }

  /**
   * Reads the state dir's token.
   *
   * @throws IOException naming the file, when it is missing, not a regular file, readable by
   *     others, or empty
   */
  public static ApiToken read(Path stateDir) throws IOException {
    Path file = stateDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("API token " + file + " is missing or not a regular file");
    }
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    if (!PRIVATE.containsAll(mode)) {
      throw new IOException("API token " + file + " is readable by others (mode "
          + PosixFilePermissions.toString(mode) + "); expected rw-------: chmod 600 it");
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (text.isEmpty()) {
      throw new IOException("API token " + file + " is empty; delete it and docktunnel makes a new one");
    }
    return new ApiToken(text);
  }
}
