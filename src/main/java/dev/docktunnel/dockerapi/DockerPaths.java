package dev.docktunnel.dockerapi;

import java.util.Locale;
import java.util.Set;

/**
 * What a Docker Engine API request is, from its method and target alone: the path without API
 * version and query, a low-cardinality path template for facts and metrics, the container it is
 * about, whether it opens a long stream, and what docktunnel does after it succeeds. Pure.
 *
 * <p>Templates follow the Engine API reference: fixed words stay ({@code /containers/json},
 * {@code /images/create}, {@code /_ping}), ids and names become {@code {id}} or {@code {name}}
 * ({@code /containers/{id}/start}, {@code /images/{name}/json}, where an image name may hold
 * slashes, a tag and a digest). A path the API does not have never leaks what it holds: an
 * unknown first word is {@code /{other}}, an unknown shape under a known word is {@code
 * /<word>/{other}} (or {@code /<word>/{id}/{other}} for an unknown action on a known resource).
 */
public final class DockerPaths {
  /** What docktunnel does once the request succeeds (a 2xx answer). */
  public enum AfterSuccess {
    /** Nothing. */
    NOTHING,
    /**
     * Start, restart, unpause: inspect {@link Call#containerId()} at once, and hold the response
     * to the client until that container's forwards are settled (bounded).
     */
    HOLD_FOR_FORWARDS,
    /**
     * Create: inspect the new container at once; its id is in the 201 body, read with {@link
     * CreatedIdReader}.
     */
    INSPECT_CREATED
  }

  /**
   * One classified request.
   *
   * @param method the method
   * @param apiVersion the version prefix's number ({@code 1.41} for {@code /v1.41/...}), or null
   * @param path the path without version prefix and query ({@code /containers/abc/start})
   * @param query the raw query, or null
   * @param template the low-cardinality template ({@code /containers/{id}/start})
   * @param containerId the container id or name in the path, or null
   * @param opensStream whether the response stays open until someone ends it: {@code logs} with
   *     {@code follow}, {@code attach}, {@code attach/ws}, {@code wait}, {@code stats} streaming,
   *     {@code exec start}, {@code events}, BuildKit's {@code session} and {@code grpc}, service and
   *     task logs with {@code follow}
   * @param afterSuccess what to do after a 2xx answer
   */
  public record Call(String method, String apiVersion, String path, String query, String template,
      String containerId, boolean opensStream, AfterSuccess afterSuccess) {
  }

  private static final String OTHER = "{other}";
  private static final Set<String> CONTAINER_WORDS = Set.of("json", "create", "prune");
  private static final Set<String> CONTAINER_ACTIONS = Set.of("json", "top", "logs", "changes",
      "export", "stats", "resize", "start", "stop", "restart", "kill", "update", "rename", "pause",
      "unpause", "attach", "wait", "archive", "exec", "checkpoints");
  private static final Set<String> SINGLE_WORDS = Set.of("_ping", "version", "info", "events",
      "auth", "commit", "session", "grpc", "build");
  private static final Set<String> IMAGE_WORDS = Set.of("json", "create", "search", "prune", "get", "load");
  private static final Set<String> PLUGIN_WORDS = Set.of("privileges", "pull", "create");
  private static final Set<String> SWARM_WORDS = Set.of("init", "join", "leave", "update", "unlockkey", "unlock");

  private DockerPaths() {
  }

  /** Classifies a request from its head. */
  public static Call classify(RequestHead head) {
    return classify(head.method(), head.target());
  }

  /** Classifies a request from its method and raw target ({@code /v1.41/containers/json?all=1}). */
  public static Call classify(String method, String target) {
    String path = HttpExchangeObserver.path(target);
    String query = HttpExchangeObserver.query(target);
    String apiVersion = null;
    if (path.startsWith("/v")) {
      int slash = path.indexOf('/', 2);
      String word = slash < 0 ? path.substring(2) : path.substring(2, slash);
      if (!word.isEmpty() && word.chars().allMatch(c -> c >= '0' && c <= '9' || c == '.')) {
        apiVersion = word; // the engine's route: /v{version:[0-9.]+}
        path = slash < 0 ? "/" : path.substring(slash);
      }
    }
    String template = path.startsWith("/") ? template(method, path) : "/" + OTHER;
    String containerId = null;
    if (template.startsWith("/containers/{id}")) {
      containerId = segments(path)[1];
    }
    boolean stream = switch (method + " " + template) {
      case "GET /containers/{id}/logs", "GET /services/{id}/logs", "GET /tasks/{id}/logs" ->
          boolValue(query, "follow", false);
      case "GET /containers/{id}/stats" -> boolValue(query, "stream", true);
      case "POST /containers/{id}/attach", "GET /containers/{id}/attach/ws",
          "POST /containers/{id}/wait", "POST /exec/{id}/start", "GET /events", "POST /session",
          "POST /grpc" -> true;
      default -> false;
    };
    AfterSuccess after = switch (method + " " + template) {
      case "POST /containers/{id}/start", "POST /containers/{id}/restart",
          "POST /containers/{id}/unpause" -> AfterSuccess.HOLD_FOR_FORWARDS;
      case "POST /containers/create" -> AfterSuccess.INSPECT_CREATED;
      default -> AfterSuccess.NOTHING;
    };
    return new Call(method, apiVersion, path, query, template, containerId, stream, after);
  }

  private static String template(String method, String path) {
    String[] s = segments(path);
    String first = s[0];
    switch (first) {
      case "containers" -> {
        return containers(s);
      }
      case "exec" -> {
        return resource(s, "exec", "{id}", Set.of(), Set.of("start", "resize", "json"));
      }
      case "images" -> {
        return named(method, path, "images", IMAGE_WORDS, Set.of("json", "history", "get"),
            Set.of("push", "tag"));
      }
      case "plugins" -> {
        return named(method, path, "plugins", PLUGIN_WORDS, Set.of("json"),
            Set.of("enable", "disable", "upgrade", "push", "set"));
      }
      case "distribution" -> {
        return named(method, path, "distribution", Set.of(), Set.of("json"), Set.of());
      }
      case "networks" -> {
        return resource(s, "networks", "{id}", Set.of("create", "prune"), Set.of("connect", "disconnect"));
      }
      case "volumes" -> {
        return resource(s, "volumes", "{name}", Set.of("create", "prune"), Set.of());
      }
      case "services" -> {
        return resource(s, "services", "{id}", Set.of("create"), Set.of("update", "logs"));
      }
      case "tasks" -> {
        return resource(s, "tasks", "{id}", Set.of(), Set.of("logs"));
      }
      case "nodes" -> {
        return resource(s, "nodes", "{id}", Set.of(), Set.of("update"));
      }
      case "secrets", "configs" -> {
        return resource(s, first, "{id}", Set.of("create"), Set.of("update"));
      }
      case "swarm" -> {
        return s.length == 1 ? "/swarm"
            : s.length == 2 && SWARM_WORDS.contains(s[1]) ? "/swarm/" + s[1] : "/swarm/" + OTHER;
      }
      case "build" -> {
        return s.length == 1 ? "/build"
            : s.length == 2 && (s[1].equals("prune") || s[1].equals("cancel")) ? "/build/" + s[1]
            : "/build/" + OTHER;
      }
      case "system" -> {
        return s.length == 2 && s[1].equals("df") ? "/system/df" : "/system/" + OTHER;
      }
      default -> {
        return s.length == 1 && SINGLE_WORDS.contains(first) ? "/" + first : "/" + OTHER;
      }
    }
  }

  private static String containers(String[] s) {
    if (s.length == 2 && CONTAINER_WORDS.contains(s[1])) {
      return "/containers/" + s[1];
    }
    if (s.length < 2 || s[1].isEmpty() || CONTAINER_WORDS.contains(s[1])) {
      return "/containers/" + OTHER;
    }
    if (s.length == 2) {
      return "/containers/{id}";
    }
    String action = s[2];
    if (!CONTAINER_ACTIONS.contains(action)) {
      return "/containers/{id}/" + OTHER;
    }
    if (s.length == 3) {
      return "/containers/{id}/" + action;
    }
    if (s.length == 4 && action.equals("attach") && s[3].equals("ws")) {
      return "/containers/{id}/attach/ws";
    }
    if (s.length == 4 && action.equals("checkpoints") && !s[3].isEmpty()) {
      return "/containers/{id}/checkpoints/{checkpoint}";
    }
    return "/containers/{id}/" + OTHER;
  }

  /** {@code /<word>}, {@code /<word>/<fixed>}, {@code /<word>/{id}}, {@code /<word>/{id}/<action>}. */
  private static String resource(String[] s, String word, String id, Set<String> fixed, Set<String> actions) {
    if (s.length == 1) {
      return "/" + word;
    }
    if (s.length == 2 && fixed.contains(s[1])) {
      return "/" + word + "/" + s[1];
    }
    if (s[1].isEmpty() || fixed.contains(s[1])) {
      return "/" + word + "/" + OTHER;
    }
    if (s.length == 2) {
      return "/" + word + "/" + id;
    }
    if (s.length == 3 && actions.contains(s[2])) {
      return "/" + word + "/" + id + "/" + s[2];
    }
    return "/" + word + "/" + id + "/" + OTHER;
  }

  /**
   * A resource whose name may hold slashes (images, plugins): the action is the last word, chosen
   * by method, as the engine's routes ({@code /images/{name:.*}/json}) do; DELETE has none.
   */
  private static String named(String method, String path, String word, Set<String> fixed,
      Set<String> getActions, Set<String> postActions) {
    String prefix = "/" + word;
    if (path.equals(prefix)) {
      return prefix;
    }
    String rest = path.substring(prefix.length() + 1);
    if (fixed.contains(rest)) {
      return prefix + "/" + rest;
    }
    if (rest.isEmpty()) {
      return prefix + "/" + OTHER;
    }
    if (method.equals("DELETE")) {
      return prefix + "/{name}";
    }
    int slash = rest.lastIndexOf('/');
    String action = rest.substring(slash + 1);
    Set<String> actions = method.equals("GET") || method.equals("HEAD") ? getActions
        : method.equals("POST") ? postActions : Set.of();
    if (slash > 0 && actions.contains(action)) {
      return prefix + "/{name}/" + action;
    }
    return prefix + "/" + OTHER;
  }

  /** The path's words after the leading slash; {@code /} gives one empty word. */
  private static String[] segments(String path) {
    return path.substring(1).split("/", -1);
  }

  /**
   * A query flag read as the engine reads it (httputils.BoolValue): true unless empty, {@code 0},
   * {@code no}, {@code false} or {@code none}; {@code absent} when the key is not there.
   */
  static boolean boolValue(String query, String key, boolean absent) {
    if (query == null) {
      return absent;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (k.equals(key)) {
        String v = eq < 0 ? "" : pair.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
        return !(v.isEmpty() || v.equals("0") || v.equals("no") || v.equals("false") || v.equals("none"));
      }
    }
    return absent;
  }
}
