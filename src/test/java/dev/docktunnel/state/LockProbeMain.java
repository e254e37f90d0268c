package dev.docktunnel.state;

import java.nio.file.Path;

/**
 * A second process for {@link InstanceLockTest}: {@code probe <lockFile>} tries once and prints
 * {@code ACQUIRED <pid>} or {@code HELD <pid|-> <reach>}; {@code hold <lockFile> <reach>} prints
 * the same and, when acquired, holds the lock until its stdin closes.
 */
public final class LockProbeMain {

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Path lockFile = Path.of(args[1]);
    String reach = args.length > 2 ? args[2] : "probe";
    InstanceLock.Attempt attempt = InstanceLock.tryAcquire(lockFile, reach);
    if (attempt instanceof InstanceLock.Acquired acquired) {
      System.out.println("ACQUIRED " + ProcessHandle.current().pid());
      System.out.flush();
      if (mode.equals("hold")) {
        while (System.in.read() >= 0) {
          // held until the parent closes our stdin
        }
      }
      acquired.lock().close();
      System.exit(0);
    }
    InstanceLock.Held held = (InstanceLock.Held) attempt;
    String pid = held.holder().pid().isPresent() ? String.valueOf(held.holder().pid().getAsLong()) : "-";
    System.out.println("HELD " + pid + " " + held.holder().reach());
    System.out.flush();
    System.exit(3);
  }
}
