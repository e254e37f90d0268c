package dev.docktunnel.forward;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Names the local process listening on a TCP port, from Linux's /proc, so a conflict can say
 * who holds the port. Blocking file reads: call it off the event loop.
 */
final class PortOwner {
  private static final String LISTEN_STATE = "0A";

  private PortOwner() {
  }

  /** "pid 1234 (nginx)", or empty when unknown (not Linux, or another user's process). */
  static Optional<String> describe(int port) {
    try {
      Optional<String> inode = listeningInode(Path.of("/proc/net/tcp"), port)
          .or(() -> listeningInode(Path.of("/proc/net/tcp6"), port));
      if (inode.isEmpty()) {
        return Optional.empty();
      }
      String socketLink = "socket:[" + inode.get() + "]";
      try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
        for (Path proc : procs) {
          if (ownsSocket(proc, socketLink)) {
            String command = Files.readString(proc.resolve("comm")).trim();
            return Optional.of("pid " + proc.getFileName() + " (" + command + ")");
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // Best effort only: the conflict is reported without an owner.
    }
    return Optional.empty();
  }

  private static Optional<String> listeningInode(Path table, int port) {
    String hexPort = String.format(Locale.ROOT, ":%04X", port);
    try {
      List<String> lines = Files.readAllLines(table);
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[1].endsWith(hexPort) && LISTEN_STATE.equals(f[3])) {
          return Optional.of(f[9]);
        }
      }
    } catch (IOException e) {
      // no such table on this system
    }
    return Optional.empty();
  }

  private static boolean ownsSocket(Path proc, String socketLink) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
      for (Path fd : fds) {
        try {
          if (socketLink.equals(Files.readSymbolicLink(fd).toString())) {
            return true;
          }
        } catch (IOException e) {
          // fd closed meanwhile
        }
      }
    } catch (IOException | SecurityException e) {
      // process gone or not ours
    }
    return false;
  }
}
