package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTest {

  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T11:22:33.456Z"), ZoneOffset.UTC);

  @TempDir Path dir;

  private StateFile file() {
    return new StateFile(dir.resolve("h.state.json"), CLOCK);
  }

  @Test
  void writesAPrivateFileAndReadsItBack() throws IOException {
    StateFile file = file();
    assertEquals(Optional.empty(), file.read());
    HostState state = HostStateTest.state(3, 5);
    file.write(state);
    assertEquals(Optional.of(state), file.read());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path())));
    assertEquals(List.of("h.state.json"), names());
  }

  @Test
  void aWriteReplacesTheRecordAndLeavesNoTempFile() throws IOException {
    StateFile file = file();
    file.write(HostStateTest.state(1, 1));
    Files.setPosixFilePermissions(file.path(), PosixFilePermissions.fromString("rw-r--r--"));
    file.write(HostStateTest.state(2, 9));
    assertEquals(HostStateTest.state(2, 9), file.read().orElseThrow());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path())));
    assertFalse(Files.exists(file.tempFile()));
  }

  @Test
  void aFailedWriteKeepsTheOldRecordAndNamesTheFile() throws IOException {
    StateFile file = file();
    file.write(HostStateTest.state(1, 1));
    Files.createDirectory(file.tempFile());
    Files.writeString(file.tempFile().resolve("blocker"), "x"); // a non-empty dir cannot be deleted
    IOException e = assertThrows(IOException.class, () -> file.write(HostStateTest.state(2, 2)));
    assertTrue(e.getMessage().startsWith("Cannot write state file " + file.path()), e.getMessage());
    Files.delete(file.tempFile().resolve("blocker"));
    assertEquals(HostStateTest.state(1, 1), file.read().orElseThrow());
  }

  @Test
  void anEmptyFileIsMovedAside() throws IOException {
    assertMovedAside(new byte[0]);
  }

  @Test
  void aTruncatedFileIsMovedAside() throws IOException {
    String whole = HostStateTest.state(2, 2).toJson().encodePrettily();
    assertMovedAside(whole.substring(0, whole.length() / 2).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void garbageIsMovedAside() throws IOException {
    assertMovedAside(new byte[] {0, (byte) 0xff, 'x', '{'});
    assertMovedAside("[1, 2]".getBytes(StandardCharsets.UTF_8));
    assertMovedAside("null".getBytes(StandardCharsets.UTF_8));
    assertMovedAside("{\"version\":1}".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anotherVersionIsMovedAside() throws IOException {
    assertMovedAside(HostStateTest.state(1, 1).toJson().put("version", 2).encode().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aHugeFileIsMovedAsideWithoutParsing() throws IOException {
    byte[] huge = new byte[StateFile.MAX_BYTES + 1];
    java.util.Arrays.fill(huge, (byte) ' ');
    huge[0] = '{';
    assertMovedAside(huge);
  }

  @Test
  void twoCorruptFilesInTheSameMillisecondAreBothKept() throws IOException {
    StateFile file = file();
    Files.writeString(file.path(), "first");
    file.read();
    Files.writeString(file.path(), "second");
    file.read();
    assertEquals(List.of("h.state.json.corrupt-20261201T112233.456Z", "h.state.json.corrupt-20261201T112233.456Z-1"),
        names());
    assertEquals("first", Files.readString(dir.resolve("h.state.json.corrupt-20261201T112233.456Z")));
  }

  @Test
  void aReadRemovesATempFileLeftByACrash() throws IOException {
    StateFile file = file();
    file.write(HostStateTest.state(1, 1));
    Files.writeString(file.tempFile(), "{\"half");
    assertEquals(HostStateTest.state(1, 1), file.read().orElseThrow());
    assertEquals(List.of("h.state.json"), names());
  }

  /**
   * A writer killed (SIGKILL) at random moments, 20 times: each time the file parses whole, as
   * the old or a new record, never a mix of two, and nothing is moved aside.
   */
  @Test
  void aWriterKilledAtRandomMomentsLeavesTheOldOrTheNewRecord() throws Exception {
    StateFile file = file();
    int forwards = 300; // ~100 KB a record, so a kill often lands inside a write
    file.write(HostStateTest.state(forwards, 0));
    Random random = new Random();
    long lastRound = 0;
    int changed = 0;
    int tempsLeft = 0;
    for (int kill = 0; kill < 20; kill++) {
      long firstRound = (kill + 1) * 1_000_000L;
      try (ChildJvm writer = ChildJvm.start(StateWriterMain.class, file.path().toString(),
          String.valueOf(forwards), String.valueOf(firstRound))) {
        assertEquals("READY", writer.readLine());
        Thread.sleep(random.nextInt(150)); // chaos timing, not an assertion
        writer.process.destroyForcibly(); // SIGKILL
        writer.process.waitFor();
      }
      if (Files.exists(file.tempFile())) {
        tempsLeft++;
      }
      HostState state = file.read().orElseThrow(() -> new AssertionError("state file lost or moved aside"));
      assertEquals(forwards, state.forwards().size());
      long round = state.forwards().get(0).bytesIn();
      for (HostState.Forward forward : state.forwards()) {
        assertEquals(round, forward.bytesIn(), "records mixed");
      }
      assertEquals(HostStateTest.state(forwards, round), state);
      assertTrue(round == lastRound || round >= firstRound, "round " + round + " is neither old nor new");
      if (round != lastRound) {
        changed++;
      }
      lastRound = round;
      assertEquals(List.of("h.state.json"), names(), "only the record remains after a read");
    }
    System.out.printf("kill test: 20 kills, %d left a new record, %d left a temp file (removed by the read)%n",
        changed, tempsLeft);
  }

  private void assertMovedAside(byte[] content) throws IOException {
    StateFile file = file();
    Files.write(file.path(), content);
    assertEquals(Optional.empty(), file.read());
    assertFalse(Files.exists(file.path()));
    Path aside = dir.resolve("h.state.json.corrupt-20261201T112233.456Z");
    assertTrue(Files.exists(aside), names().toString());
    assertEquals(content.length, Files.size(aside));
    Files.delete(aside);
    assertEquals(Optional.empty(), file.read(), "fresh after moving aside");
  }

  private List<String> names() throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
