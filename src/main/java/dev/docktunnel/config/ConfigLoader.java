package dev.docktunnel.config;

import dev.docktunnel.config.DocktunnelConfig.Command;
import dev.docktunnel.config.DocktunnelConfig.ConflictStrategy;
import dev.docktunnel.config.DocktunnelConfig.Docker;
import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import dev.docktunnel.config.DocktunnelConfig.Hetzner;
import dev.docktunnel.config.DocktunnelConfig.HostKeyChecking;
import dev.docktunnel.config.DocktunnelConfig.Lifecycle;
import dev.docktunnel.config.DocktunnelConfig.Ssh;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Builds a {@link DocktunnelConfig}: built-in defaults, overlaid by the config file, overlaid by
 * the command line. Every setting has one JSON name (the reference is in README); an unknown
 * name or a bad value fails with a {@link ConfigException} naming the setting and its source.
 * {@link #find} decides which file, if any, {@link #load} reads.
 */
public final class ConfigLoader {
  /** The first file {@link #find} looks for, relative to the working directory. */
  public static final Path WORKING_DIR_FILE = Path.of("conf", "docktunnel.json");
  /** The file {@link #find} looks for next, relative to the XDG config home. */
  public static final Path USER_FILE = Path.of("docktunnel", "docktunnel.json");

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> TOP_LEVEL = Set.of("host", "identities", "knownHosts", "sshConfig",
      "strictHostKeyChecking", "remoteDockerSocket", "stateDir", "ssh", "forwarding", "http", "bridge", "docker",
      "lifecycle");
  private static final Set<String> SSH_KEYS = Set.of("connectTimeout", "keepaliveInterval",
      "keepaliveCountMax", "reconnectMinDelay", "reconnectMaxDelay", "progressTimeout", "ptySession", "waitForHost");
  private static final Set<String> FORWARDING_KEYS = Set.of("bindAddresses", "include", "exclude",
      "conflictStrategy", "holdTimeout");
  private static final Set<String> PORT_KEYS = Set.of("port");
  private static final Set<String> LIFECYCLE_KEYS = Set.of("provider", "idleTimeout", "gracePeriod",
      "connectionTimeout", "wakeTimeout", "command", "hetzner");
  private static final Set<String> COMMAND_KEYS = Set.of("status", "start", "stop", "destroy", "timeout");
  private static final Set<String> HETZNER_KEYS = Set.of("apiUrl", "tokenEnv", "tokenFile", "serverName",
      "serverType", "location", "image", "sshKey", "volume", "keep");
  /** The sections (by their dotted name, nested ones too), each with the settings it knows. */
  private static final Map<String, Set<String>> SECTIONS = Map.of("ssh", SSH_KEYS, "forwarding", FORWARDING_KEYS,
      "http", PORT_KEYS, "bridge", PORT_KEYS, "docker", Set.of("holdStart"), "lifecycle", LIFECYCLE_KEYS,
      "lifecycle.command", COMMAND_KEYS, "lifecycle.hetzner", HETZNER_KEYS);
  /** The {@code lifecycle.provider} values. */
  public static final List<String> PROVIDERS = List.of("static", "command", "hetzner");

  private final Path home;
  private final Path workingDir;
  private final Map<String, String> env;

  /**
   * @param home the user's home directory, for defaults, {@code ~} expansion and the default
   *     XDG config home
   * @param workingDir what relative paths given to {@link #find} and {@link #WORKING_DIR_FILE}
   *     are resolved against
   * @param env the environment, for {@code XDG_CONFIG_HOME}
   */
  public ConfigLoader(Path home, Path workingDir, Map<String, String> env) {
    this.home = home;
    this.workingDir = workingDir.toAbsolutePath();
    this.env = Map.copyOf(env);
  }

  /** A loader with this process's working directory and environment. */
  public ConfigLoader(Path home) {
    this(home, Path.of(""), System.getenv());
  }

  /** A loader for this process: {@code user.home}, {@code user.dir}, the environment. */
  public static ConfigLoader forThisProcess() {
    return new ConfigLoader(Path.of(System.getProperty("user.home")));
  }

  /**
   * Which config file to read. An explicit file ({@code --config}) must exist. Without one, the
   * first of {@link #searchPath()} that exists is the file (the later ones are not read: no
   * merging); none is built-in defaults. A file that exists but cannot be used (a directory, a
   * broken link, unreadable) is not skipped: {@link #load} names it.
   *
   * @param explicit the file given on the command line, or null
   * @return the file to read, empty for built-in defaults only
   */
  public Optional<Path> find(Path explicit) {
    if (explicit != null) {
      Path file = workingDir.resolve(explicit);
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new ConfigException("config file " + file + " (--config) does not exist");
      }
      return Optional.of(file);
    }
    for (Path candidate : searchPath()) {
      if (Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Where a config file is looked for without {@code --config}, in order:
   * {@code ./conf/docktunnel.json} (the working directory), then
   * {@code $XDG_CONFIG_HOME/docktunnel/docktunnel.json}, {@code ~/.config/...} when that
   * variable is unset, empty or relative (the XDG base-directory rule).
   */
  public List<Path> searchPath() {
    String xdg = env.get("XDG_CONFIG_HOME");
    Path configHome = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
        ? Path.of(xdg) : home.resolve(".config");
    return List.of(workingDir.resolve(WORKING_DIR_FILE), configHome.resolve(USER_FILE));
  }

  /** The built-in defaults, in config-file form. */
  public JsonObject defaults() {
    return new JsonObject()
        .put("identities", new JsonArray())
        .put("knownHosts", "~/.ssh/known_hosts")
        .put("sshConfig", "~/.ssh/config")
        .put("strictHostKeyChecking", "yes")
        .put("remoteDockerSocket", "/var/run/docker.sock")
        .put("stateDir", "~/.docktunnel")
        .put("ssh", new JsonObject()
            .put("connectTimeout", "10s")
            .put("keepaliveInterval", "4s")
            .put("keepaliveCountMax", 2)
            .put("reconnectMinDelay", "500ms")
            .put("reconnectMaxDelay", "30s")
            .put("progressTimeout", "5m")
            .put("ptySession", true)
            .put("waitForHost", false))
        .put("forwarding", new JsonObject()
            .put("bindAddresses", new JsonArray().add("127.0.0.1").add("::1"))
            .put("include", new JsonArray())
            .put("exclude", new JsonArray())
            .put("conflictStrategy", "fail")
            .put("holdTimeout", "15s"))
        // 0: a port the system picks, recorded in the state file for status and events.
        .put("http", new JsonObject().put("port", 0))
        .put("bridge", new JsonObject().put("port", 0))
        .put("docker", new JsonObject().put("holdStart", "5s"))
        .put("lifecycle", new JsonObject()
            .put("provider", "static")
            .put("idleTimeout", "30m")
            .put("gracePeriod", "60s")
            .put("connectionTimeout", "2h")
            .put("wakeTimeout", "120s")
            .put("command", new JsonObject()
                .putNull("status")
                .putNull("start")
                .putNull("stop")
                .putNull("destroy")
                .put("timeout", "60s"))
            .put("hetzner", new JsonObject()
                .put("apiUrl", "https://api.hetzner.cloud/v1")
                .put("tokenEnv", "HCLOUD_TOKEN")
                .putNull("tokenFile")
                .putNull("serverName")
                .putNull("serverType")
                .putNull("location")
                .putNull("image")
                .putNull("sshKey")
                .putNull("volume")
                .put("keep", "volume")));
  }

  /**
   * Loads the effective config.
   *
   * @param file the config file to read (see {@link #find}), or null for none
   * @param overrides command-line settings in config-file form (only what was given)
   */
  public DocktunnelConfig load(Path file, JsonObject overrides) {
    JsonObject merged = defaults();
    Set<String> given = new java.util.HashSet<>();
    if (file != null) {
      JsonObject layer = readFile(file);
      merge(merged, layer, file.toString());
      given.addAll(layer.fieldNames());
    }
    merge(merged, overrides, "the command line");
    given.addAll(overrides.fieldNames());
    DocktunnelConfig config = build(merged);
    // Naming the default SSH config (as the shipped conf/docktunnel.json does) is not a typo to
    // catch: like OpenSSH's own, it may be absent.
    boolean sshConfigNamed = given.contains("sshConfig")
        && !config.sshConfig().equals(path(defaults().getString("sshConfig")));
    checkFiles(config, sshConfigNamed);
    return config;
  }

  /**
   * The state dir alone, for commands that read it without a host ({@code status} and {@code
   * stop} without {@code --host}): defaults, the file and the overrides merged and checked as
   * by {@link #load}, but no host required.
   */
  public Path stateDir(Path file, JsonObject overrides) {
    JsonObject merged = defaults();
    if (file != null) {
      merge(merged, readFile(file), file.toString());
    }
    merge(merged, overrides, "the command line");
    return path(string(merged, "stateDir"));
  }

  /**
   * Checks the files the settings name, so a typo fails here rather than after the session
   * started: an SSH config file that was named must exist (the default one may be absent), and
   * known_hosts must be a readable file when it exists (it is created by accept-new).
   */
  private static void checkFiles(DocktunnelConfig config, boolean sshConfigGiven) {
    Path sshConfig = config.sshConfig();
    if (sshConfigGiven && !Files.exists(sshConfig)) {
      throw new ConfigException("setting 'sshConfig' (--ssh-config): " + sshConfig + " does not exist"
          + " (use /dev/null for no SSH config)");
    }
    if (Files.isDirectory(sshConfig)) {
      throw new ConfigException("setting 'sshConfig' (--ssh-config): " + sshConfig + " is a directory, not a file");
    }
    if (Files.exists(sshConfig) && !Files.isReadable(sshConfig)) {
      throw new ConfigException("setting 'sshConfig' (--ssh-config): " + sshConfig + " is not readable");
    }
    Path knownHosts = config.knownHosts();
    if (Files.isDirectory(knownHosts)) {
      throw new ConfigException("setting 'knownHosts' (--known-hosts): " + knownHosts + " is a directory, not a file");
    }
    if (Files.exists(knownHosts) && !Files.isReadable(knownHosts)) {
      throw new ConfigException("setting 'knownHosts' (--known-hosts): " + knownHosts + " is not readable");
    }
  }

  private static JsonObject readFile(Path file) {
    if (Files.isDirectory(file)) {
      throw new ConfigException("config file " + file + " is a directory, not a file");
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist"
          + (Files.isSymbolicLink(file) ? " (it is a symbolic link to a missing file)" : ""));
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException("config file " + file + " is not a JSON object: " + e.getMessage());
    }
  }

  /** Overlays {@code layer} on {@code base}, checking names so typos do not pass silently. */
  private static void merge(JsonObject base, JsonObject layer, String source) {
    for (String key : layer.fieldNames()) {
      if (!TOP_LEVEL.contains(key)) {
        throw new ConfigException("unknown setting '" + key + "' in " + source
            + " (known: " + String.join(", ", new java.util.TreeSet<>(TOP_LEVEL)) + ")");
      }
      Object value = layer.getValue(key);
      if (SECTIONS.containsKey(key)) {
        mergeSection(base.getJsonObject(key), value, key, source);
      } else {
        checkShape(key, value, source);
        base.put(key, value);
      }
    }
  }

  /** Overlays one section ({@code name}, dotted when nested) setting by setting, nested sections too. */
  private static void mergeSection(JsonObject base, Object value, String name, String source) {
    if (!(value instanceof JsonObject section)) {
      throw new ConfigException("setting '" + name + "' in " + source + " must be an object");
    }
    Set<String> known = SECTIONS.get(name);
    for (String sub : section.fieldNames()) {
      if (!known.contains(sub)) {
        throw new ConfigException("unknown setting '" + name + "." + sub + "' in " + source
            + " (known: " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
      }
      if (SECTIONS.containsKey(name + "." + sub)) {
        mergeSection(base.getJsonObject(sub), section.getValue(sub), name + "." + sub, source);
      } else {
        base.put(sub, section.getValue(sub));
      }
    }
  }

  /**
   * Checks a top-level value's type in the layer it comes from: a later layer replaces it, so a
   * bad value in the file (say {@code "identities": "~/.ssh/id"}) must fail even when the command
   * line overrides it, or it would go unnoticed until the option is dropped.
   */
  private static void checkShape(String key, Object value, String source) {
    if (key.equals("identities")) {
      if (!(value instanceof JsonArray array)) {
        throw new ConfigException("setting 'identities' in " + source + " must be a list of strings like "
            + "[\"~/.ssh/id_ed25519\"], not " + describe(value));
      }
      for (Object item : array) {
        if (!(item instanceof String s) || s.isBlank()) {
          throw new ConfigException("setting 'identities' in " + source + " must be a list of file names; found "
              + describe(item));
        }
      }
    } else if (!(value instanceof String)) {
      throw new ConfigException("setting '" + key + "' in " + source + " must be a string, not " + describe(value));
    }
  }

  private static String describe(Object value) {
    return value instanceof String s ? "the string \"" + s + "\"" : String.valueOf(value);
  }

  private DocktunnelConfig build(JsonObject c) {
    String host = c.getValue("host") == null ? null : string(c, "host");
    if (host == null || host.isBlank()) {
      throw new ConfigException("setting 'host' is required: --host ssh://[user@]host[:port] or an alias from ~/.ssh/config");
    }
    JsonObject ssh = c.getJsonObject("ssh");
    JsonObject fwd = c.getJsonObject("forwarding");
    HostKeyChecking checking = HostKeyChecking.parse(string(c, "strictHostKeyChecking"));
    if (checking == null) {
      throw new ConfigException("setting 'strictHostKeyChecking' must be 'yes' or 'accept-new', not '"
          + c.getValue("strictHostKeyChecking") + "'");
    }
    ConflictStrategy conflict = ConflictStrategy.parse(string(fwd, "forwarding.conflictStrategy", "conflictStrategy"));
    if (conflict == null) {
      throw new ConfigException("setting 'forwarding.conflictStrategy' must be 'fail' or 'next-free', not '"
          + fwd.getValue("conflictStrategy") + "'");
    }
    String socket = string(c, "remoteDockerSocket");
    if (!socket.startsWith("/")) {
      throw new ConfigException("setting 'remoteDockerSocket' must be an absolute path, not '" + socket + "'");
    }
    Duration min = duration(ssh, "reconnectMinDelay");
    Duration max = duration(ssh, "reconnectMaxDelay");
    if (min.compareTo(max) > 0) {
      throw new ConfigException("setting 'ssh.reconnectMinDelay' (" + min + ") is above 'ssh.reconnectMaxDelay' (" + max + ")");
    }
    int countMax = integer(ssh, "keepaliveCountMax");
    if (countMax < 1) {
      throw new ConfigException("setting 'ssh.keepaliveCountMax' must be at least 1, not " + countMax);
    }
    boolean pty = bool(ssh, "ptySession");
    boolean waitForHost = bool(ssh, "waitForHost");
    return new DocktunnelConfig(
        host.trim(),
        list(c, "identities", "identities", this::path),
        path(string(c, "knownHosts")),
        path(string(c, "sshConfig")),
        checking,
        socket,
        path(string(c, "stateDir")),
        new Ssh(positive(ssh, "connectTimeout"), positive(ssh, "keepaliveInterval"), countMax,
            min, max, positive(ssh, "progressTimeout"), pty, waitForHost),
        new Forwarding(
            list(fwd, "bindAddresses", "forwarding.bindAddresses", ConfigLoader::loopbackAddress),
            list(fwd, "include", "forwarding.include", text -> portRange(text, "forwarding.include")),
            list(fwd, "exclude", "forwarding.exclude", text -> portRange(text, "forwarding.exclude")),
            conflict,
            positive(fwd, "forwarding", "holdTimeout")),
        localPort(c.getJsonObject("http"), "http.port"),
        localPort(c.getJsonObject("bridge"), "bridge.port"),
        new Docker(positive(c.getJsonObject("docker"), "docker", "holdStart")),
        lifecycle(c.getJsonObject("lifecycle")));
  }

  /**
   * The {@code lifecycle} section: every value's type is checked whichever provider is chosen
   * (a typo in an unused section would bite the day it is chosen); what a provider needs is
   * required only when it is the one chosen.
   */
  private Lifecycle lifecycle(JsonObject l) {
    String provider = string(l, "lifecycle.provider", "provider");
    if (!PROVIDERS.contains(provider)) {
      throw new ConfigException("setting 'lifecycle.provider' must be 'static', 'command' or 'hetzner', not '"
          + provider + "'");
    }
    Duration idle = positive(l, "lifecycle", "idleTimeout");
    Duration grace = positive(l, "lifecycle", "gracePeriod");
    Duration connection = positive(l, "lifecycle", "connectionTimeout");
    Duration wake = positive(l, "lifecycle", "wakeTimeout");
    JsonObject cmd = l.getJsonObject("command");
    Command command = new Command(optional(cmd, "lifecycle.command", "status"),
        optional(cmd, "lifecycle.command", "start"), optional(cmd, "lifecycle.command", "stop"),
        optional(cmd, "lifecycle.command", "destroy"), positive(cmd, "lifecycle.command", "timeout"));
    if (provider.equals("command")) {
      String when = "lifecycle.provider 'command'";
      require(command.status(), "lifecycle.command.status", when,
          "a shell command printing Running, Stopped or NotFound");
      require(command.start(), "lifecycle.command.start", when, "a shell command that starts the server");
      require(command.stop(), "lifecycle.command.stop", when, "a shell command that stops the server");
    }
    return new Lifecycle(provider, idle, grace, connection, wake, command, hetzner(l.getJsonObject("hetzner"),
        provider.equals("hetzner")));
  }

  private Hetzner hetzner(JsonObject h, boolean chosen) {
    String section = "lifecycle.hetzner";
    String apiUrl = string(h, section + ".apiUrl", "apiUrl").trim();
    try {
      URI uri = new URI(apiUrl);
      if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new URISyntaxException(apiUrl, "not an http(s) URL with a host");
      }
    } catch (URISyntaxException e) {
      throw new ConfigException("setting 'lifecycle.hetzner.apiUrl' must be an https URL like "
          + "https://api.hetzner.cloud/v1, not '" + apiUrl + "'");
    }
    String tokenEnv = string(h, section + ".tokenEnv", "tokenEnv").trim();
    if (!ENV_NAME.matcher(tokenEnv).matches()) {
      throw new ConfigException("setting 'lifecycle.hetzner.tokenEnv' must be an environment variable's name like "
          + "HCLOUD_TOKEN, not '" + tokenEnv + "'");
    }
    String tokenFile = optional(h, section, "tokenFile");
    String keep = string(h, section + ".keep", "keep").trim();
    if (!keep.equals("volume") && !keep.equals("snapshot")) {
      throw new ConfigException("setting 'lifecycle.hetzner.keep' must be 'volume' or 'snapshot', not '" + keep + "'");
    }
    Hetzner hetzner = new Hetzner(apiUrl, tokenEnv, tokenFile == null ? null : path(tokenFile),
        optional(h, section, "serverName"), optional(h, section, "serverType"), optional(h, section, "location"),
        optional(h, section, "image"), optional(h, section, "sshKey"), optional(h, section, "volume"), keep);
    if (chosen) {
      String when = "lifecycle.provider 'hetzner'";
      require(hetzner.serverName(), section + ".serverName", when, "the server's name, e.g. docktunnel-box");
      require(hetzner.serverType(), section + ".serverType", when, "a server type, e.g. cx22");
      require(hetzner.location(), section + ".location", when, "a location, e.g. fsn1");
      require(hetzner.sshKey(), section + ".sshKey", when, "the name of an SSH key in the project");
      if (keep.equals("volume")) {
        // With a snapshot rule the server comes back from its latest snapshot; an image is then optional.
        require(hetzner.image(), section + ".image", when + " and keep 'volume'",
            "the image to create the server from, e.g. docker-ce");
        require(hetzner.volume(), section + ".volume", when + " and keep 'volume'",
            "the volume holding /var/lib/docker");
      }
    }
    return hetzner;
  }

  /** A string setting that may be null (unset); given, it must be a string with text. */
  private static String optional(JsonObject section, String sectionName, String key) {
    Object v = section.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ConfigException("setting '" + sectionName + "." + key + "' must be a non-empty string or null, not "
          + describe(v));
    }
    return s.trim();
  }

  private static void require(String value, String name, String when, String what) {
    if (value == null) {
      throw new ConfigException("setting '" + name + "' is required with " + when + ": " + what);
    }
  }

  /** A port for one of our own local endpoints: 0 lets the system pick one. */
  private static int localPort(JsonObject section, String name) {
    Object v = section.getValue("port");
    if (!(v instanceof Integer port) || port < 0 || port > 65535) {
      throw new ConfigException("setting '" + name + "' must be a port 0-65535 (0: any free port), not " + v);
    }
    return port;
  }

  /** Expands {@code ~/} against the home directory. */
  public Path path(String text) {
    if (text.equals("~")) {
      return home;
    }
    if (text.startsWith("~/")) {
      return home.resolve(text.substring(2));
    }
    return Path.of(text);
  }

  private static String string(JsonObject o, String key) {
    return string(o, key, key);
  }

  private static String string(JsonObject o, String name, String key) {
    Object v = o.getValue(key);
    if (!(v instanceof String s)) {
      throw new ConfigException("setting '" + name + "' must be a string, not " + v);
    }
    return s;
  }

  private static int integer(JsonObject o, String key) {
    Object v = o.getValue(key);
    if (!(v instanceof Integer i)) {
      throw new ConfigException("setting 'ssh." + key + "' must be a whole number, not " + v);
    }
    return i;
  }

  private static boolean bool(JsonObject ssh, String key) {
    Object v = ssh.getValue(key);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException("setting 'ssh." + key + "' must be true or false, not " + v);
    }
    return b;
  }

  private static Duration positive(JsonObject ssh, String key) {
    return positive(ssh, "ssh", key);
  }

  /** A duration above zero from {@code section} (named {@code sectionName} in errors). */
  private static Duration positive(JsonObject section, String sectionName, String key) {
    Duration d = duration(section, sectionName, key);
    if (d.isZero()) {
      throw new ConfigException("setting '" + sectionName + "." + key + "' must be above zero");
    }
    return d;
  }

  static Duration duration(JsonObject ssh, String key) {
    return duration(ssh, "ssh", key);
  }

  /** Durations are written like {@code 500ms}, {@code 15s}, {@code 5m}, {@code 1h} ({@link DurationText}). */
  private static Duration duration(JsonObject section, String sectionName, String key) {
    Object v = section.getValue(key);
    Duration d = v instanceof String s ? DurationText.parseOrNull(s) : null;
    if (d == null) {
      throw new ConfigException("setting '" + sectionName + "." + key
          + "' must be a duration like " + DurationText.EXAMPLES + ", not " + v);
    }
    return d;
  }

  private static <T> List<T> list(JsonObject o, String key, String name, Function<String, T> parse) {
    Object v = o.getValue(key);
    if (!(v instanceof JsonArray array)) {
      throw new ConfigException("setting '" + name + "' must be a list of strings, not " + v);
    }
    List<T> out = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String s) || s.isBlank()) {
        throw new ConfigException("setting '" + name + "' must be a list of strings; found " + item);
      }
      out.add(parse.apply(s.trim()));
    }
    return List.copyOf(out);
  }

  private static PortRange portRange(String text, String name) {
    try {
      return PortRange.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("setting '" + name + "': " + e.getMessage());
    }
  }

  /** Forwards listen on loopback only: a published port must not reach the laptop's network. */
  private static String loopbackAddress(String text) {
    InetAddress address;
    try {
      if (!text.matches("[0-9a-fA-F:.]+")) {
        throw new UnknownHostException(text);
      }
      address = InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new ConfigException("setting 'forwarding.bindAddresses': '" + text + "' is not an IP address");
    }
    if (!address.isLoopbackAddress()) {
      throw new ConfigException("setting 'forwarding.bindAddresses': '" + text
          + "' is not a loopback address; forwards listen on loopback only (127.0.0.1, ::1)");
    }
    return text;
  }
}
