package dev.docktunnel.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/** Whether a process the test started has ended, polled with a deadline. */
final class Processes {

  private Processes() {
  }

  /**
   * True once {@code pid} no longer runs: no such process, or a zombie (dead, waiting for its
   * parent, here often PID 1, to reap it).
   */
  static boolean goneWithin(long pid, Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      if (gone(pid)) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
    }
  }

  static boolean gone(long pid) throws IOException {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (NoSuchFileException e) {
      return true;
    }
    // pid (comm) STATE ...: comm may hold spaces and parentheses, so read after the last ')'.
    String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state.equals("Z") || state.equals("X");
  }
}
