package dev.docktunnel.faults;

import dev.docktunnel.testbed.RunningDocktunnel;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.Testbed.PublishedTcpPort;
import dev.docktunnel.testbed.ThisProcess;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Compares docktunnel's forward set with the engine's truth: the forwards list (TCP) must equal
 * {@code docker ps}'s published ports, without duplicates, every forward listening locally and
 * nothing else listening on the ports a test used (no orphans).
 */
final class ForwardSet {
  private ForwardSet() {
  }

  /** What differs now, or null when docktunnel matches {@code docker ps}. */
  static String mismatch(Testbed testbed, RunningDocktunnel docktunnel, Collection<Integer> portsUsed,
                         boolean requireActive) throws Exception {
    Set<PublishedTcpPort> expected = testbed.publishedTcpPorts();
    List<JsonObject> forwards = docktunnel.forwards().stream()
        .filter(f -> "tcp".equals(f.getString("protocol"))).toList();
    Set<PublishedTcpPort> actual = forwards.stream()
        .map(f -> new PublishedTcpPort(f.getString("containerId"), f.getInteger("publishedPort")))
        .collect(Collectors.toCollection(TreeSet::new));
    StringBuilder problems = new StringBuilder();
    if (actual.size() != forwards.size()) {
      problems.append("duplicate forwards: ").append(forwards.size()).append(" forwards for ").append(actual.size())
          .append(" distinct container ports; ");
    }
    if (!actual.equals(expected)) {
      Set<PublishedTcpPort> missing = new TreeSet<>(expected);
      missing.removeAll(actual);
      Set<PublishedTcpPort> extra = new TreeSet<>(actual);
      extra.removeAll(expected);
      problems.append("forwards != docker ps (").append(actual.size()).append(" vs ").append(expected.size())
          .append("): missing ").append(brief(missing)).append(", not in docker ps ").append(brief(extra))
          .append("; ");
    }
    Set<Integer> localPorts = forwards.stream().filter(f -> !"conflict".equals(f.getString("status")))
        .map(f -> f.getInteger("localPort")).collect(Collectors.toCollection(TreeSet::new));
    Set<Integer> listening = new TreeSet<>(ThisProcess.listeningTcpPorts());
    listening.retainAll(portsUsed);
    if (!listening.equals(localPorts)) {
      Set<Integer> orphans = new TreeSet<>(listening);
      orphans.removeAll(localPorts);
      Set<Integer> notListening = new TreeSet<>(localPorts);
      notListening.removeAll(listening);
      problems.append("local listeners != forwards: orphan listeners ").append(brief(orphans))
          .append(", forwards not listening ").append(brief(notListening)).append("; ");
    }
    if (requireActive) {
      List<String> notActive = forwards.stream().filter(f -> !"active".equals(f.getString("status")))
          .map(f -> f.getString("id") + "=" + f.getString("status")).toList();
      if (!notActive.isEmpty()) {
        problems.append("not active: ").append(brief(notActive)).append("; ");
      }
    }
    return problems.length() == 0 ? null : problems.toString();
  }

  /**
   * Polls {@link #mismatch} until docktunnel matches; returns how long it took, or fails with the
   * last mismatch after {@code timeout}.
   */
  static Duration awaitMatch(String when, Testbed testbed, RunningDocktunnel docktunnel,
                             Collection<Integer> portsUsed, boolean requireActive, Duration timeout) throws Exception {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    while (true) {
      String problem = mismatch(testbed, docktunnel, portsUsed, requireActive);
      if (problem == null) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(when + ": docktunnel's forwards still differ from docker ps after "
            + timeout.toSeconds() + " s: " + problem);
      }
      Thread.sleep(200); // polling with a deadline
    }
  }

  private static String brief(Collection<?> items) {
    List<?> list = List.copyOf(items);
    return list.size() <= 6 ? list.toString() : list.subList(0, 6) + " and " + (list.size() - 6) + " more";
  }
}
