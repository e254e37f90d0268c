package dev.docktunnel.testbed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The processes one test started, so its teardown ends exactly those, by handle, never by name. */
public final class StartedProcesses {
  private final List<Process> started = new ArrayList<>();

  /** Remembers {@code process} for {@link #endAll()}; returns it. */
  public Process add(Process process) {
    started.add(process);
    return process;
  }

  /** Kills every remembered process that still runs, waiting (bounded) for each to go. */
  public void endAll() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    started.clear();
  }
}
