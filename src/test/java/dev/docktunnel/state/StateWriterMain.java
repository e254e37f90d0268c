package dev.docktunnel.state;

import java.nio.file.Path;
import java.time.Clock;

/**
 * A writer for {@link StateFileTest}'s kill test: {@code <stateFile> <forwards>} prints
 * {@code READY} and then writes records in a loop, round n with every forward's {@code bytesIn}
 * = n, until it is killed.
 */
public final class StateWriterMain {

  public static void main(String[] args) throws Exception {
    StateFile file = new StateFile(Path.of(args[0]), Clock.systemUTC());
    int forwards = Integer.parseInt(args[1]);
    long round = Long.parseLong(args[2]);
    System.out.println("READY");
    System.out.flush();
    while (true) {
      file.write(HostStateTest.state(forwards, round++));
    }
  }
}
