package dev.docktunnel.bus;

/**
 * The remote server's lifecycle states, by their wire names (the {@code state} of the
 * {@code docktunnel.lifecycle} fact). {@code lifecycle/IdlePolicy} decides the transitions.
 */
public enum LifecycleState implements FactFields.WireName {
  /** The provider has not reported the server's status yet (right after docktunnel starts). */
  UNKNOWN("unknown"),
  /** The provider's start is under way; connections and Docker requests are held. */
  STARTING("starting"),
  /** The server is up; the idle countdown runs while nothing is active. */
  RUNNING("running"),
  /** Idle for the idle timeout: the server stops at {@code stopAt} unless activity or an extend comes first. */
  IDLE_WARNING("idle-warning"),
  /** The provider's stop (or destroy) is under way; a wake now starts the server once it is done. */
  STOPPING("stopping"),
  /** The server is stopped; a connection, a Docker request or a person's start wakes it. */
  STOPPED("stopped"),
  /** A start or stop failed, or the status could not be read (the reason says which). */
  FAILED("failed");

  private final String text;

  LifecycleState(String text) {
    this.text = text;
  }

  @Override
  public String text() {
    return text;
  }
}
