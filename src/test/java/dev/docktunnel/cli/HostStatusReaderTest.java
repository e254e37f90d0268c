package dev.docktunnel.cli;

import static dev.docktunnel.cli.StatusFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.state.HostId;
import dev.docktunnel.state.HostState;
import dev.docktunnel.state.StateFile;
import dev.docktunnel.state.StatusDocument;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostStatusReaderTest {
  @TempDir
  Path dir;
  final List<Integer> asked = new ArrayList<>();

  HostOptions.KnownHost host() {
    HostId id = new HostId("root-box-22-12345678");
    return new HostOptions.KnownHost(id, dir.resolve(id.value() + ".state.json"), dir.resolve(id.value() + ".lock"),
        "root@box:22");
  }

  void write(HostState state) throws IOException {
    new StateFile(host().stateFile(), Clock.systemUTC()).write(state);
  }

  HostStatusReader reader(Instant now, boolean pidAlive, HostStatusReader.StatusFetcher daemon) {
    return new HostStatusReader(port -> {
      asked.add(port);
      return daemon.status(port);
    }, Clock.fixed(now, ZoneOffset.UTC), pid -> pidAlive);
  }

  @Test
  void aLiveDaemonIsAskedAndItsDocumentShownAsItIs() throws Exception {
    HostState state = StatusFixtures.running(4242, List.of(StatusFixtures.forward("active", null, 10, 20)));
    write(state);
    JsonObject live = StatusDocument.live(state, 17);
    HostStatus status = reader(T0.plusSeconds(6), true, port -> live).read(host());
    assertEquals(List.of(41234), asked);
    assertEquals(live, status.document());
    assertTrue(status.live());
    assertNull(status.warning());
    assertEquals("daemon", status.document().getString("source"));
  }

  @Test
  void aSilentDaemonWithAFreshFileFallsBackToTheFileWithAWarningButIsNotStale() throws Exception {
    write(StatusFixtures.running(4242, List.of()));
    HostStatus status = reader(T0.plusSeconds(6), true, port -> {
      throw new ConnectException("http://127.0.0.1:" + port + "/status: Connection refused");
    }).read(host());
    assertEquals("state-file", status.document().getString("source"));
    assertEquals(false, status.document().getBoolean("stale"));
    assertTrue(status.live());
    assertTrue(status.warning().contains("(PID 4242) did not answer: http://127.0.0.1:41234/status: Connection refused"),
        status.warning());
  }

  @Test
  void anAnswerForAnotherPidIsNotTrusted() throws Exception {
    write(StatusFixtures.running(4242, List.of()));
    HostStatus status = reader(T0.plusSeconds(6), true,
        port -> StatusDocument.live(StatusFixtures.running(999, List.of()), 1)).read(host());
    assertEquals("state-file", status.document().getString("source"));
    assertTrue(status.warning().contains("answered for PID 999"), status.warning());
  }

  @Test
  void afterAKillTheFileIsShownStaleNotRunningAndTheDaemonIsNotAsked() throws Exception {
    write(StatusFixtures.running(4242, List.of(StatusFixtures.forward("active", null, 0, 0))));
    HostStatus status = reader(T0.plusSeconds(6), false, port -> {
      throw new AssertionError("a dead daemon's port is not asked");
    }).read(host());
    assertEquals(List.of(), asked);
    assertFalse(status.live());
    JsonObject doc = status.document();
    assertEquals(1, doc.getInteger("schema"));
    assertEquals("state-file", doc.getString("source"));
    assertEquals(true, doc.getBoolean("stale"));
    assertTrue(doc.getString("staleReason").startsWith("not running (PID 4242 is gone"), doc.encode());
    assertEquals(8080, doc.getJsonArray("forwards").getJsonObject(0).getInteger("localPort"));
    assertTrue(status.warning().startsWith("docktunnel: host root@box:22 is not running (PID 4242 is gone"),
        status.warning());
    assertTrue(status.warning().endsWith("showing the last state file " + host().stateFile() + " (stale)"));
  }

  @Test
  void aGracefulStopReadsNotRunning() throws Exception {
    write(StatusFixtures.stopped(4242));
    HostStatus status = reader(T0.plusSeconds(60), false, port -> {
      throw new AssertionError("not asked");
    }).read(host());
    assertTrue(status.warning().contains("is not running (stopped at 2026-12-01T10:00:09Z)"), status.warning());
    assertEquals("not running (stopped at 2026-12-01T10:00:09Z)", status.document().getString("staleReason"));
  }

  @Test
  void noFileSaysSoAndABadFileIsReportedButLeftWhereItIs() throws Exception {
    HostStatus none = reader(T0, true, port -> null).read(host());
    assertNull(none.document());
    assertFalse(none.live());
    assertTrue(none.warning().contains("no state for host root@box:22 in " + dir), none.warning());

    Files.writeString(host().stateFile(), "{\"version\": 1, \"host\": \"h\"");
    HostStatus bad = reader(T0, true, port -> null).read(host());
    assertNull(bad.document());
    assertTrue(bad.warning().contains("is not a JSON object"), bad.warning());
    assertTrue(Files.exists(host().stateFile()), "a reader never moves the daemon's file aside");
    assertEquals(1, Files.list(dir).count());
  }
}
