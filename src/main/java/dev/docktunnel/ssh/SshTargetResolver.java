package dev.docktunnel.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.sshd.client.config.hosts.HostConfigEntry;
import org.apache.sshd.common.util.OsUtils;

/**
 * Turns the user's {@code --host} value into an {@link SshTarget}: parses
 * {@code ssh://[user@]host[:port]}, {@code user@host} or a bare alias, then applies the OpenSSH
 * client config file (HostName, User, Port, IdentityFile) the way {@code ssh} does: values given
 * on the command line win, then the first matching config value, then the defaults (the current
 * user name, port 22).
 */
public final class SshTargetResolver {

  private static final String FORMS =
      "use ssh://[user@]host[:port], [user@]host or an alias from the SSH config file";
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?");
  private static final Pattern USER = Pattern.compile("[^\\s@:/\\[\\]]+");

  private SshTargetResolver() {
  }

  /** What the user typed, split into its parts; {@code user} null and {@code port} -1 when absent. */
  record HostSpec(String user, String host, int port) {
  }

  /**
   * Resolves a host specification against an SSH config file.
   *
   * @param spec the {@code --host} value
   * @param sshConfig the OpenSSH client config file; a missing file means no entries
   * @return the target to connect to
   * @throws IllegalArgumentException when {@code spec} is malformed or the config file cannot be
   *     read or holds a bad value for this host; the message names the value
   */
  public static SshTarget resolve(String spec, Path sshConfig) {
    HostSpec parsed = parse(spec);
    List<HostConfigEntry> entries = readConfig(sshConfig);
    HostConfigEntry entry;
    try {
      entry = HostConfigEntry.toHostConfigEntryResolver(entries)
          .resolveEffectiveHost(parsed.host(), parsed.port(), null, parsed.user(), null, null);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("SSH config " + sshConfig + " has a bad value for host '"
          + parsed.host() + "': " + e.getMessage(), e);
    }
    if (entry == null) {
      // No Host block matched: the synthetic entry OpenSSH would use.
      String user = parsed.user() != null ? parsed.user() : OsUtils.getCurrentUser();
      int port = parsed.port() > 0 ? parsed.port() : SshTarget.DEFAULT_PORT;
      return new SshTarget(parsed.host(), port, user, List.of(), spec);
    }
    List<Path> identities = new ArrayList<>();
    for (String id : entry.getIdentities()) {
      try {
        identities.add(Path.of(id));
      } catch (InvalidPathException e) {
        throw new IllegalArgumentException(
            "SSH config " + sshConfig + ": IdentityFile '" + id + "' is not a valid path", e);
      }
    }
    String hostName = entry.getHostName();
    if (hostName.startsWith("[") && hostName.endsWith("]")) {
      hostName = hostName.substring(1, hostName.length() - 1);
    }
    checkHost(hostName, "HostName '" + hostName + "' in " + sshConfig);
    String user = entry.getUsername();
    if (user == null || !USER.matcher(user).matches()) {
      throw new IllegalArgumentException(
          "SSH config " + sshConfig + ": User '" + user + "' for host '" + parsed.host()
              + "' is not a valid user name");
    }
    int port = entry.getPort();
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "SSH config " + sshConfig + ": Port " + port + " for host '" + parsed.host()
              + "' is out of range 1-65535");
    }
    return new SshTarget(hostName, port, user, identities, spec);
  }

  /**
   * Splits a host specification without consulting any config.
   *
   * @throws IllegalArgumentException naming the value when it is not one of the accepted forms
   */
  static HostSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("SSH host is empty: " + FORMS);
    }
    if (!spec.equals(spec.strip()) || spec.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("SSH host '" + spec + "' contains white space: " + FORMS);
    }
    int schemeEnd = spec.indexOf("://");
    if (schemeEnd >= 0) {
      String scheme = spec.substring(0, schemeEnd);
      if (!scheme.equalsIgnoreCase("ssh")) {
        throw new IllegalArgumentException(
            "SSH host '" + spec + "' has unsupported scheme '" + scheme + "': " + FORMS);
      }
      return parseUri(spec, spec.substring(schemeEnd + 3));
    }
    return parseBare(spec);
  }

  private static HostSpec parseUri(String spec, String rest) {
    int slash = rest.indexOf('/');
    String authority = slash >= 0 ? rest.substring(0, slash) : rest;
    String tail = slash >= 0 ? rest.substring(slash) : "";
    if (!tail.isEmpty() && !tail.equals("/")) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "' has a path, query or fragment ('" + tail + "'): " + FORMS);
    }
    if (authority.indexOf('?') >= 0 || authority.indexOf('#') >= 0) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "' has a query or fragment: " + FORMS);
    }
    String user = null;
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      user = authority.substring(0, at);
      authority = authority.substring(at + 1);
      checkUser(spec, user);
    }
    String host;
    int port = -1;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException(
            "SSH host '" + spec + "' has an unclosed '[' around an IPv6 address: " + FORMS);
      }
      host = authority.substring(1, close);
      String after = authority.substring(close + 1);
      if (!after.isEmpty()) {
        if (!after.startsWith(":")) {
          throw new IllegalArgumentException(
              "SSH host '" + spec + "' has unexpected text after ']': " + FORMS);
        }
        port = parsePort(spec, after.substring(1));
      }
      if (!IPV6.matcher(host).matches() || host.indexOf(':') < 0) {
        throw new IllegalArgumentException(
            "SSH host '" + spec + "': '" + host + "' in brackets is not an IPv6 address");
      }
      return new HostSpec(user, host, port);
    }
    int colon = authority.indexOf(':');
    if (colon >= 0) {
      if (authority.indexOf(':', colon + 1) >= 0) {
        throw new IllegalArgumentException(
            "SSH host '" + spec + "': write IPv6 addresses in brackets, ssh://[addr]:port");
      }
      port = parsePort(spec, authority.substring(colon + 1));
      authority = authority.substring(0, colon);
    }
    host = authority;
    checkHost(host, "SSH host '" + spec + "'");
    return new HostSpec(user, host, port);
  }

  private static HostSpec parseBare(String spec) {
    String user = null;
    String host = spec;
    int at = spec.lastIndexOf('@');
    if (at >= 0) {
      user = spec.substring(0, at);
      host = spec.substring(at + 1);
      checkUser(spec, user);
    }
    if (host.indexOf('/') >= 0) {
      throw new IllegalArgumentException("SSH host '" + spec + "' contains '/': " + FORMS);
    }
    if (host.startsWith("[")) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "': brackets and ports need the URI form, ssh://[addr]:port");
    }
    int colons = (int) host.chars().filter(c -> c == ':').count();
    if (colons == 1) {
      throw new IllegalArgumentException("SSH host '" + spec
          + "' looks like host:port; write ssh://" + (user == null ? "" : user + "@")
          + host + " to give a port");
    }
    if (colons > 1) {
      // A bare IPv6 address, as `ssh ::1` accepts.
      if (!IPV6.matcher(host).matches()) {
        throw new IllegalArgumentException(
            "SSH host '" + spec + "': '" + host + "' is not a valid IPv6 address");
      }
      return new HostSpec(user, host, -1);
    }
    checkHost(host, "SSH host '" + spec + "'");
    return new HostSpec(user, host, -1);
  }

  private static void checkUser(String spec, String user) {
    if (user.isEmpty()) {
      throw new IllegalArgumentException("SSH host '" + spec + "' has an empty user name before '@'");
    }
    if (user.indexOf(':') >= 0) {
      throw new IllegalArgumentException("SSH host '" + spec
          + "' contains a password (user:password@); passwords are not supported, use keys");
    }
    if (!USER.matcher(user).matches()) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "': '" + user + "' is not a valid user name");
    }
  }

  private static void checkHost(String host, String what) {
    if (host.isEmpty()) {
      throw new IllegalArgumentException(what + " has no host name: " + FORMS);
    }
    boolean ipv6 = host.indexOf(':') >= 0 && IPV6.matcher(host).matches();
    if (!ipv6 && !HOST_NAME.matcher(host).matches()) {
      throw new IllegalArgumentException(what + ": '" + host + "' is not a valid host name");
    }
  }

  private static int parsePort(String spec, String text) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "': port '" + text + "' is not a number in 1-65535");
    }
    int port = Integer.parseInt(text);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "SSH host '" + spec + "': port " + port + " is out of range 1-65535");
    }
    return port;
  }

  private static List<HostConfigEntry> readConfig(Path sshConfig) {
    if (sshConfig == null || !Files.exists(sshConfig)) {
      return List.of();
    }
    try {
      return HostConfigEntry.readHostConfigEntries(sshConfig);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read SSH config " + sshConfig + ": " + e.getMessage(), e);
    }
  }
}
