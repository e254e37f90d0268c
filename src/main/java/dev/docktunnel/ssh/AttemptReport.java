package dev.docktunnel.ssh;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.sshd.common.AttributeRepository.AttributeKey;

/**
 * What happened during one connection attempt, filled in from MINA threads (host key check,
 * key offering, session errors) and read afterwards on the verticle's context: the host key
 * refusal if any, the keys offered, the key that worked, the problems met collecting keys, and
 * why the session ended. Thread-safe.
 */
final class AttemptReport {

  /** Connection-context attribute under which the attempt's report lives. */
  static final AttributeKey<AttemptReport> KEY = new AttributeKey<>();

  private final List<String> offered = new CopyOnWriteArrayList<>();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private volatile HostKeyRefusedException refusal;
  private volatile String accepted;
  private volatile String closeReason;

  void offered(String description) {
    offered.add(description);
  }

  void problem(String description) {
    if (!problems.contains(description)) {
      problems.add(description);
    }
  }

  void refused(HostKeyRefusedException e) {
    refusal = e;
  }

  void accepted(String description) {
    accepted = description;
  }

  void closeReason(String why) {
    if (closeReason == null) {
      closeReason = why;
    }
  }

  /** The first error or disconnect message MINA reported for the session, or null. */
  String closeReason() {
    return closeReason;
  }

  /** Keys offered, e.g. {@code ssh-ed25519 SHA256:... (/home/u/.ssh/id_ed25519)}. */
  List<String> offered() {
    return List.copyOf(offered);
  }

  /** Problems met while collecting keys. */
  List<String> problems() {
    return List.copyOf(problems);
  }

  /** The host key refusal, or null. */
  HostKeyRefusedException refusal() {
    return refusal;
  }

  /** The key the server accepted, or null. */
  String accepted() {
    return accepted;
  }
}
