package dev.docktunnel.state;

import dev.docktunnel.ssh.SshTarget;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The name of one remote host's files in the state dir: a readable prefix and a short stable hash
 * of the canonical target, e.g. {@code root-build-box-22-3f9a1c2b}. The hash keeps two targets
 * apart whose readable prefixes collide after sanitizing or truncating; the prefix is only for
 * people. Pure.
 *
 * @param value {@code [a-z0-9-]}, at most {@link #MAX_LENGTH} characters
 */
public record HostId(String value) {

  /** Bounds the file names built from the id (well under the usual 255-byte name limit). */
  public static final int MAX_LENGTH = 64;

  private static final int HASH_HEX_CHARS = 8;
  private static final int PREFIX_MAX = MAX_LENGTH - HASH_HEX_CHARS - 1;
  private static final Pattern VALID = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
  private static final Pattern NOT_ALLOWED = Pattern.compile("[^a-z0-9]+");

  public HostId {
    Objects.requireNonNull(value, "value");
    if (value.length() > MAX_LENGTH || !VALID.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "host id '" + value + "' is not 1-" + MAX_LENGTH + " characters of [a-z0-9-]");
    }
  }

  /** True when {@code value} is a well-formed id (e.g. a file name's stem read back from the state dir). */
  public static boolean isValid(String value) {
    return value.length() <= MAX_LENGTH && VALID.matcher(value).matches();
  }

  /** The id of the resolved target: the same user, host and port always give the same id. */
  public static HostId of(SshTarget target) {
    Objects.requireNonNull(target, "target");
    String host = target.hostName().toLowerCase(Locale.ROOT);
    String readable = sanitize(target.user() + "-" + host + "-" + target.port());
    if (readable.length() > PREFIX_MAX) {
      readable = trimDashes(readable.substring(0, PREFIX_MAX));
    }
    String hash = hash(canonical(target));
    return new HostId(readable.isEmpty() ? hash : readable + "-" + hash);
  }

  /**
   * The target as hashed: {@code user@host:port}, host lower-cased (DNS names are
   * case-insensitive), user kept as is (user names are not).
   */
  static String canonical(SshTarget target) {
    return target.user() + "@" + target.hostName().toLowerCase(Locale.ROOT) + ":" + target.port();
  }

  @Override
  public String toString() {
    return value;
  }

  private static String sanitize(String text) {
    return trimDashes(NOT_ALLOWED.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("-"));
  }

  private static String trimDashes(String text) {
    int start = 0;
    int end = text.length();
    while (start < end && text.charAt(start) == '-') {
      start++;
    }
    while (end > start && text.charAt(end - 1) == '-') {
      end--;
    }
    return text.substring(start, end);
  }

  private static String hash(String canonical) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, HASH_HEX_CHARS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
