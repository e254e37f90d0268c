package dev.docktunnel.lifecycle;

import java.util.Objects;

/**
 * A provider's answer to "is the server there?".
 *
 * @param kind running, stopped or not found
 * @param detail one line for people (e.g. the provider's own status word)
 */
public record ServerStatus(Kind kind, String detail) {

  public ServerStatus {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(detail, "detail");
  }

  /** The three answers a provider gives. */
  public enum Kind {
    RUNNING,
    STOPPED,
    NOT_FOUND
  }
}
