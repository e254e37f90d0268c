package dev.docktunnel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bus.Addresses;
import dev.docktunnel.http.HttpApiVerticle;
import dev.docktunnel.metrics.DocktunnelMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docktunnel extend} and {@code docktunnel server} in process against the real HTTP API,
 * its lifecycle played by fake consumers on the bus; the daemon's state file names this JVM's
 * PID and the API's port, so it reads as a live daemon.
 */
class LifecycleCommandsTest {
  static final String STOP_AT = "2026-12-01T11:00:00.123Z";

  @TempDir
  Path dir;
  final Vertx vertx = Vertx.vertx();
  final DocktunnelMetrics metrics = DocktunnelMetrics.create();
  int port;

  @BeforeEach
  void startApi() throws Exception {
    HttpApiVerticle api = new HttpApiVerticle(0, dir, metrics, () -> { }, List.of());
    vertx.deployVerticle(api).await(10, TimeUnit.SECONDS);
    port = api.port();
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    metrics.close();
  }

  void liveDaemon() throws Exception {
    StatusCommandTest.write(dir, StopCommandTest.ID, StopCommandTest.freshRecord(ProcessHandle.current().pid(), port));
  }

  /** A fake lifecycle on {@code address}: records each command, answers with {@code answer} (null: a 409). */
  List<String> lifecycle(String address, Function<JsonObject, JsonObject> answer) {
    List<String> got = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(address, m -> {
      got.add(m.body().encode());
      JsonObject reply = answer.apply(m.body());
      if (reply == null) {
        m.fail(409, "the server is stopped already");
      } else {
        m.reply(reply);
      }
    });
    return got;
  }

  CliRun run(String... args) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 2);
    all[args.length] = "--state-dir";
    all[args.length + 1] = dir.toString();
    return CliRun.of(all);
  }

  @Test
  void extendWithoutADurationLeavesItToTheDaemonAndPrintsTheDeadline() throws Exception {
    liveDaemon();
    List<String> got = lifecycle(Addresses.LIFECYCLE_EXTEND,
        c -> new JsonObject().put("stopAt", STOP_AT).put("state", "running"));
    CliRun run = run("extend");
    assertEquals(ExitCodes.OK, run.exit(), run.toString());
    assertEquals("docktunnel: host root@box:22: extended by the idle timeout; no idle stop before "
        + "2026-12-01T11:00:00Z (state running)", run.out().strip());
    assertEquals(List.of("{}"), got);

    CliRun hours = run("extend", "90m");
    assertEquals(ExitCodes.OK, hours.exit(), hours.toString());
    assertTrue(hours.out().startsWith("docktunnel: host root@box:22: extended by 90m; "), hours.toString());
    CliRun json = run("extend", "2h", "--json");
    assertEquals(new JsonObject().put("stopAt", STOP_AT).put("state", "running"), new JsonObject(json.out()));
    assertEquals(List.of("{}", "{\"durationMs\":5400000}", "{\"durationMs\":7200000}"), got);
  }

  @Test
  void extendWithNoStopDueSaysSo() throws Exception {
    liveDaemon();
    lifecycle(Addresses.LIFECYCLE_EXTEND, c -> new JsonObject().putNull("stopAt").put("state", "running"));
    CliRun run = run("extend", "15m");
    assertEquals("docktunnel: host root@box:22: extended by 15m; no idle stop is due now (state running)",
        run.out().strip(), run.toString());
  }

  @Test
  void aBadDurationIsAUsageErrorAndNothingIsSent() throws Exception {
    liveDaemon();
    List<String> got = lifecycle(Addresses.LIFECYCLE_EXTEND, c -> new JsonObject());
    CliRun run = run("extend", "soon");
    assertEquals(ExitCodes.USAGE, run.exit(), run.toString());
    assertEquals("docktunnel: DURATION 'soon' is not a duration like 500ms, 15s, 5m or 1h", run.err().strip());
    assertEquals(ExitCodes.USAGE, run("extend", "0s").exit());
    assertEquals(List.of(), got);
  }

  @Test
  void serverStatusStartAndStopPrintTheLifecycleStateAndAStopRefusalExitsOne() throws Exception {
    liveDaemon();
    List<String> got = lifecycle(Addresses.LIFECYCLE_SERVER, c -> switch (c.getString("action")) {
      case "status" -> new JsonObject().put("state", "idle-warning").put("provider", "command")
          .put("reason", "idle for 30m: no activity").put("since", "2026-12-01T10:59:00.5Z").put("stopAt", STOP_AT);
      case "start" -> new JsonObject().put("state", "starting").put("provider", "command").put("reason", "asked")
          .putNull("stopAt");
      default -> null;
    });
    CliRun status = run("server", "status");
    assertEquals(ExitCodes.OK, status.exit(), status.toString());
    assertEquals("docktunnel: host root@box:22: server idle-warning (provider command) since 2026-12-01T10:59:00Z: "
        + "idle for 30m: no activity; idle stop at 2026-12-01T11:00:00Z", status.out().strip());
    CliRun start = run("server", "start");
    assertEquals(ExitCodes.OK, start.exit(), start.toString());
    assertEquals("docktunnel: host root@box:22: server starting (provider command): asked", start.out().strip());
    CliRun stop = run("server", "stop");
    assertEquals(ExitCodes.FAILED, stop.exit(), stop.toString());
    assertEquals("docktunnel: host root@box:22: the server is stopped already (POST /server/stop answered 409)",
        stop.err().strip());
    CliRun json = run("server", "status", "--json");
    assertEquals("idle-warning", new JsonObject(json.out()).getString("state"), json.toString());
    assertEquals(List.of("{\"action\":\"status\"}", "{\"action\":\"start\"}", "{\"action\":\"stop\"}",
        "{\"action\":\"status\"}"), got);
  }

  @Test
  void withoutALifecycleTheDaemonsReasonIsPrintedAndExitsOne() throws Exception {
    liveDaemon();
    CliRun run = run("server", "status");
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertEquals("docktunnel: host root@box:22: the lifecycle is not running (nothing answers "
        + "docktunnel.lifecycle.server) (GET /server answered 503)", run.err().strip());
    CliRun extend = run("extend");
    assertEquals(ExitCodes.FAILED, extend.exit(), extend.toString());
    assertTrue(extend.err().contains("(POST /lifecycle/extend answered 503)"), extend.toString());
  }

  @Test
  void aDaemonNotRunningIsOneLineAndExitsOne() throws Exception {
    List<String> got = lifecycle(Addresses.LIFECYCLE_SERVER, c -> new JsonObject());
    StatusCommandTest.write(dir, StopCommandTest.ID, StatusFixtures.stopped(StatusCommandTest.DEAD_PID));
    CliRun run = run("server", "start");
    assertEquals(ExitCodes.FAILED, run.exit(), run.toString());
    assertEquals("docktunnel: docktunnel for host root@box:22 is not running (stopped at 2026-12-01T10:00:09Z); "
        + "start it with: docktunnel run --host root@box:22 --state-dir " + dir, run.err().strip());
    assertEquals(List.of(), got, "a stale file's port never gets the token");
  }

  @Test
  void noHostOrNoSubcommandIsAUsageError() {
    CliRun none = run("extend");
    assertEquals(ExitCodes.USAGE, none.exit(), none.toString());
    assertTrue(none.err().startsWith("docktunnel: no host found: no <host-id>.state.json in state dir "), none.toString());
    assertTrue(none.err().contains("(docktunnel extend --host HOST)"), none.toString());
    CliRun bare = CliRun.of("server");
    assertEquals(ExitCodes.USAGE, bare.exit(), bare.toString());
    CliRun unknown = CliRun.of("server", "restart");
    assertEquals(ExitCodes.USAGE, unknown.exit(), unknown.toString());
  }
}
