package dev.docktunnel.docker;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What docktunnel knows about one container: identity, state, labels and published ports.
 * Built from the engine's list ({@code /containers/json}) or inspect
 * ({@code /containers/{id}/json}) answers, and carried on the bus as JSON.
 *
 * @param id     full container id
 * @param name   name without the leading {@code /}
 * @param image  the image as the user named it ({@code nginx:latest}), or its id
 * @param state  one of {@link #RUNNING}, {@link #PAUSED}, {@link #EXITED}, {@link #REMOVED}
 * @param labels container labels, sorted by key
 * @param ports  published ports, sorted, without duplicates; unpublished ports are left out
 */
public record ContainerInfo(String id, String name, String image, String state,
                            Map<String, String> labels, List<PublishedPort> ports) {

  /** The container's main process runs. */
  public static final String RUNNING = "running";
  /** The container is frozen ({@code docker pause}). */
  public static final String PAUSED = "paused";
  /** Not running: created, exited, dead, restarting (waiting to restart) or being removed. */
  public static final String EXITED = "exited";
  /** The container no longer exists. */
  public static final String REMOVED = "removed";

  /** Normalizes: null-safe copies, sorted labels, sorted de-duplicated ports. */
  public ContainerInfo {
    Objects.requireNonNull(id, "id");
    name = Objects.requireNonNullElse(name, "");
    image = Objects.requireNonNullElse(image, "");
    state = Objects.requireNonNullElse(state, EXITED);
    labels = labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
    ports = ports == null ? List.of() : List.copyOf(new TreeSet<>(ports));
  }

  /** The same container in another state. */
  public ContainerInfo withState(String newState) {
    return new ContainerInfo(id, name, image, newState, labels, ports);
  }

  /** True when the container serves traffic (running, not paused). */
  public boolean isRunning() {
    return RUNNING.equals(state);
  }

  /**
   * Maps the engine's state words to ours: {@code running}, {@code paused} stay; {@code created},
   * {@code restarting}, {@code removing}, {@code exited}, {@code dead} and anything unknown become
   * {@link #EXITED} (nothing listens in those states).
   */
  public static String normalizeState(String engineState) {
    if (engineState == null) {
      return EXITED;
    }
    return switch (engineState.toLowerCase(Locale.ROOT)) {
      case RUNNING -> RUNNING;
      case PAUSED -> PAUSED;
      default -> EXITED;
    };
  }

  /**
   * Parses one entry of {@code GET /containers/json}: {@code Id}, {@code Names} ({@code ["/web"]}),
   * {@code Image}, {@code State}, {@code Labels}, {@code Ports}
   * ({@code [{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}]}). Entries without
   * {@code PublicPort} are unpublished and left out.
   *
   * @throws IllegalArgumentException when the entry has no {@code Id}
   */
  public static ContainerInfo fromListEntry(JsonObject entry) {
    String id = requireId(JsonFields.string(entry, "Id"), entry);
    JsonArray names = JsonFields.array(entry, "Names");
    String state = JsonFields.string(entry, "State");
    if (state == null) {
      // Engines before API 1.23 only had the human "Status" text ("Up 3 minutes (Paused)").
      String status = JsonFields.string(entry, "Status", "");
      state = status.contains("(Paused)") ? PAUSED : status.startsWith("Up") ? RUNNING : EXITED;
    }
    List<PublishedPort> ports = new ArrayList<>();
    JsonArray portArray = JsonFields.array(entry, "Ports");
    if (portArray != null) {
      for (Object item : portArray) {
        if (item instanceof JsonObject p) {
          int hostPort = port(JsonFields.integer(p, "PublicPort"));
          int containerPort = port(JsonFields.integer(p, "PrivatePort"));
          if (hostPort > 0 && containerPort > 0) {
            ports.add(new PublishedPort(JsonFields.string(p, "IP"), hostPort, containerPort,
                JsonFields.string(p, "Type")));
          }
        }
      }
    }
    return new ContainerInfo(id, listName(names), JsonFields.string(entry, "Image"),
        normalizeState(state), JsonFields.stringMap(entry, "Labels"), ports);
  }

  /**
   * Parses {@code GET /containers/{id}/json}: {@code Id}, {@code Name} ({@code "/web"}),
   * {@code Config.Image}, {@code Config.Labels}, {@code State.Status} and
   * {@code NetworkSettings.Ports} ({@code {"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],
   * "443/tcp":null}}). Bindings without a {@code HostPort} are left out; a missing
   * {@code NetworkSettings} or {@code Ports} means no published ports.
   *
   * @throws IllegalArgumentException when the document has no {@code Id}
   */
  public static ContainerInfo fromInspect(JsonObject doc) {
    String id = requireId(JsonFields.string(doc, "Id"), doc);
    JsonObject config = JsonFields.object(doc, "Config");
    JsonObject stateObj = JsonFields.object(doc, "State");
    String state = JsonFields.string(stateObj, "Status");
    if (state == null && stateObj != null) {
      // Engines before API 1.21 had only the booleans.
      state = Boolean.TRUE.equals(JsonFields.bool(stateObj, "Paused")) ? PAUSED
          : Boolean.TRUE.equals(JsonFields.bool(stateObj, "Running")) ? RUNNING : EXITED;
    }
    String image = JsonFields.string(config, "Image");
    if (image == null) {
      image = JsonFields.string(doc, "Image");
    }
    List<PublishedPort> ports = new ArrayList<>();
    JsonObject portMap = JsonFields.object(JsonFields.object(doc, "NetworkSettings"), "Ports");
    if (portMap != null) {
      for (Map.Entry<String, Object> e : portMap) {
        if (!(e.getValue() instanceof JsonArray bindings)) {
          continue; // null: exposed but not published
        }
        String key = e.getKey();
        int slash = key.indexOf('/');
        int containerPort = port(parseLong(slash < 0 ? key : key.substring(0, slash)));
        String protocol = slash < 0 ? "tcp" : key.substring(slash + 1);
        if (containerPort <= 0) {
          continue;
        }
        for (Object b : bindings) {
          if (b instanceof JsonObject binding) {
            int hostPort = port(JsonFields.integer(binding, "HostPort"));
            if (hostPort > 0) {
              ports.add(new PublishedPort(JsonFields.string(binding, "HostIp"), hostPort,
                  containerPort, protocol));
            }
          }
        }
      }
    }
    return new ContainerInfo(id, stripSlash(JsonFields.string(doc, "Name")), image,
        normalizeState(state), JsonFields.stringMap(config, "Labels"), ports);
  }

  /**
   * Bus form: {@code {"id","name","image","state","labels":{},"ports":[...]}} (the watcher adds
   * {@code "at"}).
   */
  public JsonObject toJson() {
    JsonArray portArray = new JsonArray();
    ports.forEach(p -> portArray.add(p.toJson()));
    return new JsonObject()
        .put("id", id)
        .put("name", name)
        .put("image", image)
        .put("state", state)
        .put("labels", new JsonObject(new TreeMap<String, Object>(labels)))
        .put("ports", portArray);
  }

  /**
   * Reads the bus form back; unknown fields (such as {@code at}) are ignored.
   *
   * @throws IllegalArgumentException when {@code id} is missing or a port is invalid
   */
  public static ContainerInfo fromJson(JsonObject json) {
    String id = requireId(JsonFields.string(json, "id"), json);
    List<PublishedPort> ports = new ArrayList<>();
    JsonArray portArray = JsonFields.array(json, "ports");
    if (portArray != null) {
      for (Object item : portArray) {
        if (item instanceof JsonObject p) {
          ports.add(PublishedPort.fromJson(p));
        }
      }
    }
    return new ContainerInfo(id, JsonFields.string(json, "name"), JsonFields.string(json, "image"),
        JsonFields.string(json, "state", EXITED), JsonFields.stringMap(json, "labels"), ports);
  }

  private static String requireId(String id, JsonObject source) {
    if (id == null || id.isBlank()) {
      String text = source == null ? "null" : source.encode();
      throw new IllegalArgumentException("container JSON without an id: "
          + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
    }
    return id;
  }

  /** The container's own name: the first one without a further '/' (others are legacy links). */
  private static String listName(JsonArray names) {
    if (names == null || names.isEmpty()) {
      return "";
    }
    String first = null;
    for (Object n : names) {
      if (n instanceof String s) {
        String stripped = stripSlash(s);
        if (!stripped.contains("/")) {
          return stripped;
        }
        if (first == null) {
          first = stripped;
        }
      }
    }
    return first == null ? "" : first;
  }

  private static String stripSlash(String name) {
    if (name == null) {
      return "";
    }
    return name.startsWith("/") ? name.substring(1) : name;
  }

  private static Long parseLong(String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A valid port number, or -1 (missing, zero, out of range). */
  private static int port(Long value) {
    return value != null && value >= 1 && value <= 65535 ? value.intValue() : -1;
  }
}
