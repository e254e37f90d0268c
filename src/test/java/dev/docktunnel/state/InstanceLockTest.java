package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceLockTest {

  private static final long OUR_PID = ProcessHandle.current().pid();

  @TempDir Path tmp;

  @Test
  void acquiresAndWritesOurPidAndHowToReachUs() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    try (InstanceLock lock = acquire(lockFile, "/state/h.state.json")) {
      InstanceLock.Holder holder = lock.holder();
      assertEquals(OUR_PID, holder.pid().getAsLong());
      assertEquals("/state/h.state.json", holder.reach());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(lockFile)));
    }
  }

  @Test
  void aSecondProcessIsRefusedNamingOurPidAndReach() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    try (InstanceLock lock = acquire(lockFile, "/state/h.state.json")) {
      long started = System.nanoTime();
      try (ChildJvm child = ChildJvm.start(LockProbeMain.class, "probe", lockFile.toString())) {
        assertEquals("HELD " + OUR_PID + " /state/h.state.json", child.readLine());
        assertEquals(3, child.process.waitFor());
      }
      System.out.printf("second-instance refusal incl. JVM start: %d ms%n", (System.nanoTime() - started) / 1_000_000);
      assertTrue(lock.isValid());
    }
  }

  @Test
  void theHolderInAnotherProcessIsNamedAndTheLockIsFreeAfterItEnds() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    try (ChildJvm holder = ChildJvm.start(LockProbeMain.class, "hold", lockFile.toString(), "/their/state.json")) {
      String line = holder.readLine();
      assertTrue(line.startsWith("ACQUIRED "), line);
      long childPid = holder.process.pid();
      assertEquals("ACQUIRED " + childPid, line);

      InstanceLock.Held held = assertInstanceOf(InstanceLock.Held.class, InstanceLock.tryAcquire(lockFile, "us"));
      assertFalse(held.byThisProcess());
      assertEquals(childPid, held.holder().pid().getAsLong());
      assertEquals("/their/state.json", held.holder().reach());
      assertTrue(held.message().contains("another docktunnel (PID " + childPid + ")"), held.message());
      assertTrue(held.message().contains(lockFile.toString()), held.message());

      holder.process.getOutputStream().close();
      assertEquals(0, holder.process.waitFor());
    }
    try (InstanceLock lock = acquire(lockFile, "us")) {
      assertEquals(OUR_PID, lock.holder().pid().getAsLong());
    }
  }

  /**
   * The known hazard, and that we stay clear of it: reading the holder and trying again in this
   * JVM (which must not open the lock file a second time) leave the lock held, as a child JVM
   * still sees afterwards.
   */
  @Test
  void readingTheHolderAndRetryingInThisJvmKeepTheLock() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    try (InstanceLock lock = acquire(lockFile, "reach")) {
      for (int i = 0; i < 3; i++) {
        assertEquals(OUR_PID, lock.holder().pid().getAsLong());
        InstanceLock.Held again =
            assertInstanceOf(InstanceLock.Held.class, InstanceLock.tryAcquire(lockFile, "other"));
        assertTrue(again.byThisProcess());
        assertEquals("reach", again.holder().reach());
        assertTrue(again.message().startsWith("This host is already served by this process"), again.message());
      }
      // the same file through another path: still recognised, still not reopened
      Path alias = Files.createSymbolicLink(tmp.resolve("alias.lock"), lockFile);
      assertTrue(((InstanceLock.Held) InstanceLock.tryAcquire(alias, "x")).byThisProcess());
      try (ChildJvm child = ChildJvm.start(LockProbeMain.class, "probe", lockFile.toString())) {
        assertEquals("HELD " + OUR_PID + " reach", child.readLine());
        assertEquals(3, child.process.waitFor());
      }
    }
  }

  /**
   * Why nothing else may open the lock file: opening and closing any other channel to it in
   * this JVM drops the POSIX lock (the JDK does not guard against it), and another process then
   * gets it while we think we hold it. If this test ever fails, the JDK changed and the
   * single-channel rule is merely cautious.
   */
  @Test
  void knownHazardAnotherChannelClosedInThisJvmDropsTheLock() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    try (InstanceLock lock = acquire(lockFile, "reach")) {
      FileChannel.open(lockFile, StandardOpenOption.READ).close();
      try (ChildJvm child = ChildJvm.start(LockProbeMain.class, "probe", lockFile.toString())) {
        assertTrue(child.readLine().startsWith("ACQUIRED "));
        assertEquals(0, child.process.waitFor());
      }
      assertTrue(lock.isValid(), "the JVM still believes it holds the lock: that is the hazard");
    }
  }

  @Test
  void differentHostsLockSideBySide() throws Exception {
    try (InstanceLock a = acquire(tmp.resolve("a.lock"), "a");
        InstanceLock b = acquire(tmp.resolve("b.lock"), "b")) {
      assertTrue(a.isValid() && b.isValid());
    }
  }

  @Test
  void closeReleasesForTheNextAttemptInThisJvm() throws Exception {
    Path lockFile = tmp.resolve("h.lock");
    acquire(lockFile, "first").close();
    try (InstanceLock lock = acquire(lockFile, "second")) {
      assertEquals("second", lock.holder().reach());
    }
    assertTrue(Files.exists(lockFile), "the lock file stays");
  }

  @Test
  void anUnopenableLockFileIsAnErrorNamingIt() {
    Path lockFile = tmp.resolve("missing-dir/h.lock");
    IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> InstanceLock.tryAcquire(lockFile, "x"));
    assertTrue(e.getMessage().startsWith("Cannot open lock file " + lockFile), e.getMessage());
  }

  @Test
  void aHolderThatHasNotWrittenItsPidYetIsSaidSo() {
    InstanceLock.Holder unknown = InstanceLock.Holder.parse("");
    assertTrue(unknown.pid().isEmpty());
    assertEquals(unknown, InstanceLock.Holder.parse("garbage {"));
    String message = new InstanceLock.Held(tmp.resolve("h.lock"), unknown, false).message();
    assertEquals("This host is already served by another docktunnel (PID not written yet) (lock "
        + tmp.resolve("h.lock") + ")", message);
  }

  private static InstanceLock acquire(Path lockFile, String reach) throws IOException {
    return assertInstanceOf(InstanceLock.Acquired.class, InstanceLock.tryAcquire(lockFile, reach)).lock();
  }
}
