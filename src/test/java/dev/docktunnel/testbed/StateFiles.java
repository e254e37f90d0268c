package dev.docktunnel.testbed;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/** Waits on the state file a docktunnel under test writes in its state dir. */
public final class StateFiles {
  private StateFiles() {
  }

  /**
   * The first {@code *.state.json} record in {@code stateDir} for which {@code wanted} holds,
   * polled until {@code wait} is over; {@code alive} is checked on each round (a daemon that
   * exited fails at once) and {@code context} (e.g. its log) goes into the failure message.
   */
  public static JsonObject await(Path stateDir, Duration wait, Predicate<JsonObject> wanted,
      BooleanSupplier alive, Callable<String> context) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try (var files = Files.list(stateDir)) {
        Path file = files.filter(f -> f.getFileName().toString().endsWith(".state.json")).findFirst().orElse(null);
        if (file != null) {
          last = Files.readString(file);
          JsonObject state = new JsonObject(last);
          if (wanted.test(state)) {
            return state;
          }
        }
      } catch (IOException | RuntimeException e) {
        last = e.toString(); // written atomically: only a missing file or dir shows here
      }
      if (!alive.getAsBoolean()) {
        throw new AssertionError("docktunnel exited; state file: " + last + "\n" + describe(context));
      }
      Thread.sleep(50); // polling the file, bounded by the deadline
    }
    throw new AssertionError("state file never matched; last: " + last + "\n" + describe(context));
  }

  private static String describe(Callable<String> context) {
    try {
      return context.call();
    } catch (Exception e) {
      return "(context unreadable: " + e + ")";
    }
  }
}
