package dev.docktunnel.bus;

import java.util.List;

/**
 * The one list of event-bus addresses. Facts are published as JSON objects; queries and
 * commands are request/reply with a timeout. Schemas are documented in docs/events.md.
 */
public final class Addresses {
  private Addresses() {
  }

  /** Fact: SSH session state changed ({@code state}, {@code host}, {@code reason}, {@code at}). */
  public static final String SSH_STATE = "docktunnel.ssh.state";

  /**
   * Command (a stopping provider only): the lifecycle is about to stop the server; the session
   * publishes {@code suspended}, closes, and makes no attempts until the lifecycle says the server
   * runs. Answered {@code {"state": ...}}. Not on the bridges.
   */
  public static final String SSH_SUSPEND = "docktunnel.ssh.suspend";

  /** Fact: one container's state as the watcher now knows it. */
  public static final String CONTAINER = "docktunnel.container";
  /** Fact: a full resync finished; {@code ids} are all containers running now. */
  public static final String CONTAINERS_SYNCED = "docktunnel.containers.synced";
  /**
   * Fact: the engine's event stream broke or a sync failed; until the next
   * {@link #CONTAINERS_SYNCED} what is known of the containers may be stale. {@code reason}.
   */
  public static final String CONTAINERS_UNSYNCED = "docktunnel.containers.unsynced";
  /** Query: the containers the watcher knows, as {@code {containers:[...]}}. */
  public static final String CONTAINERS_LIST = "docktunnel.containers.list";
  /**
   * Command: inspect one container now ({@code {container: id or name}}), without waiting for its
   * event; answered once the watcher's fact for it is out, with {@code {container: {...} or null}}.
   */
  public static final String CONTAINERS_INSPECT = "docktunnel.containers.inspect";

  /** Fact: a forward's status changed (pending, active, conflict, stopped). */
  public static final String FORWARD_STATUS = "docktunnel.forward.status";
  /** Query: all forwards, as {@code {forwards:[...]}}. */
  public static final String FORWARDS_LIST = "docktunnel.forwards.list";
  /**
   * Query: answered once every forward of {@code containerId} is active, in conflict or rejected
   * (or it has none), or after {@code timeoutMs}: {@code {settled, forwards:[...]}}.
   */
  public static final String FORWARDS_SETTLED = "docktunnel.forwards.settled";

  /** Fact: a connection through a forward opened or closed, with its byte counts. */
  public static final String ACTIVITY_CONNECTION = "docktunnel.activity.connection";
  /** Fact: periodic byte counts per forward while traffic flows. */
  public static final String ACTIVITY_BYTES = "docktunnel.activity.bytes";
  /** Fact: a Docker API request through the local socket, or a Docker stream opened or closed. */
  public static final String ACTIVITY_DOCKER = "docktunnel.activity.docker";
  /** Fact: the local Docker socket: its path, whether it listens, its connection and request counts. */
  public static final String DOCKER_SOCKET = "docktunnel.docker.socket";
  /**
   * Query: the activity picture ({@code bus/ActivityState}): idle or not, since when, and why not;
   * {@code {}} or {@code {idleTimeoutMs: n}} to judge by another idle timeout.
   */
  public static final String ACTIVITY_QUERY = "docktunnel.activity.query";
  /** Fact: the activity picture changed (idle or busy, or the set of reasons); {@code bus/ActivityState}. */
  public static final String ACTIVITY_STATE = "docktunnel.activity.state";

  /**
   * Fact: the remote server's lifecycle ({@code bus/LifecycleStatus}: unknown, starting, running,
   * idle-warning with its {@code stopAt}, stopping, stopped, failed), on every change.
   */
  public static final String LIFECYCLE = "docktunnel.lifecycle";

  /** Fact: one of docktunnel's own local endpoints (HTTP API, TCP bridge) is listening. */
  public static final String ENDPOINT = "docktunnel.endpoint";
  /**
   * Query: the whole picture as {@code docktunnel status --json} and {@code GET /status} show it
   * (schema 1, with the {@code seq} it is current to).
   */
  public static final String STATUS = "docktunnel.status";

  /**
   * Command: push the idle stop's deadline, {@code {"durationMs": n}} ({@code {}}: by the idle
   * timeout), answered {@code {"stopAt": ISO or null, "state": ...}}. It changes state: never on
   * the bridges' permitted lists; reached through the token-protected {@code POST /lifecycle/extend}.
   */
  public static final String LIFECYCLE_EXTEND = "docktunnel.lifecycle.extend";
  /**
   * Command: {@code {"action": "start"|"stop"|"status"}}, answered with the lifecycle status
   * ({@code state}, {@code provider}, {@code reason}, {@code since}, {@code stopAt}, ...). Start and
   * stop change state: never on the bridges' lists; reached through {@code POST /server/start},
   * {@code POST /server/stop} (token) and {@code GET /server}.
   */
  public static final String LIFECYCLE_SERVER = "docktunnel.lifecycle.server";

  /**
   * Command: {@code {"why": "a connection to 127.0.0.1:8080 (...)"}} from a local connection that
   * found the server stopping or stopped: starts it (or joins the start under way), answered
   * {@code {}} once it runs, failed with code 503 and why it will not start. Not on the bridges.
   */
  public static final String LIFECYCLE_WAKE = "docktunnel.lifecycle.wake";

  /** Every fact address: what the event bridges let subscribers receive. */
  public static final List<String> FACTS = List.of(SSH_STATE, CONTAINER, CONTAINERS_SYNCED,
      CONTAINERS_UNSYNCED, FORWARD_STATUS, ACTIVITY_CONNECTION, ACTIVITY_BYTES, ACTIVITY_DOCKER, DOCKER_SOCKET,
      ACTIVITY_STATE, LIFECYCLE, ENDPOINT);
  /** Every query a bridge client may send (request/reply, read only). */
  public static final List<String> QUERIES = List.of(CONTAINERS_LIST, FORWARDS_LIST, STATUS, ACTIVITY_QUERY);
}
