package dev.docktunnel.lifecycle;

import dev.docktunnel.config.DocktunnelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The Hetzner Cloud API token: from the environment variable {@code lifecycle.hetzner.tokenEnv},
 * else from the file {@code lifecycle.hetzner.tokenFile}, which must be readable by its owner only
 * (like OpenSSH's private keys: a token others can read is refused, not used).
 *
 * <p>{@link #toString()} never shows the token, so it cannot end up in a log line by accident.
 * Reading the file blocks: call {@link #read} in {@code executeBlocking}.
 */
final class HetznerToken {

  private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private final String value;
  private final String source;

  private HetznerToken(String value, String source) {
    this.value = value;
    this.source = source;
  }

  /** The token itself, for the Authorization header only. */
  String value() {
    return value;
  }

  /** Where it came from ({@code $HCLOUD_TOKEN} or the file), for messages. */
  String source() {
    return source;
  }

  @Override
  public String toString() {
    return "HetznerToken[from " + source + ", redacted]";
  }

  /**
   * The token, or an {@link IllegalStateException} whose one-line message says what to fix.
   *
   * @param environment the process environment (tests pass their own)
   */
  static HetznerToken read(DocktunnelConfig.Hetzner settings, Map<String, String> environment) {
    String variable = settings.tokenEnv();
    if (variable != null && !variable.isBlank()) {
      String fromEnv = environment.get(variable);
      if (fromEnv != null && !fromEnv.strip().isEmpty()) {
        return new HetznerToken(fromEnv.strip(), "$" + variable);
      }
    }
    Path file = settings.tokenFile();
    if (file == null) {
      throw new IllegalStateException("no Hetzner API token: set the environment variable "
          + (variable == null || variable.isBlank() ? "(lifecycle.hetzner.tokenEnv is unset)" : "$" + variable)
          + " or lifecycle.hetzner.tokenFile (a file readable only by you, chmod 600)");
    }
    return fromFile(file, variable);
  }

  private static HetznerToken fromFile(Path file, String variable) {
    Set<PosixFilePermission> permissions;
    try {
      permissions = Files.getPosixFilePermissions(file);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " does not exist"
          + (variable == null || variable.isBlank() ? "" : " (and $" + variable + " is unset)"));
    } catch (UnsupportedOperationException e) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file
          + ": its permissions cannot be checked on this file system; use $" + variable + " instead");
    } catch (IOException e) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " cannot be read: " + e.getMessage());
    }
    Set<PosixFilePermission> tooOpen = EnumSet.noneOf(PosixFilePermission.class);
    tooOpen.addAll(permissions);
    tooOpen.retainAll(OTHERS);
    if (!tooOpen.isEmpty()) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " is accessible by others ("
          + PosixFilePermissions.toString(permissions) + "); refusing to use it: chmod 600 " + file);
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " is not a regular file");
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " cannot be read: " + e.getMessage());
    }
    if (text.isEmpty()) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file + " is empty");
    }
    if (text.contains("\n") || text.contains(" ")) {
      throw new IllegalStateException("lifecycle.hetzner.tokenFile " + file
          + " holds more than one word; it must hold the API token only");
    }
    return new HetznerToken(text, file.toString());
  }
}
