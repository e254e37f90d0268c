package dev.docktunnel.testbed;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The testbed's "server" as the {@code command} provider sees it: {@link #commands()} are curl
 * lines against a loopback endpoint of the test JVM whose {@code /stop} really stops the
 * testbed's sshd (and dockerd, for a full stop) by PID, {@code /start} starts them again and waits
 * until sshd answers, and {@code /status} prints {@code Running} or {@code Stopped} from whether
 * sshd lives. The daemons stay the testbed's own processes. Every call is recorded, with how long
 * the start took.
 */
public final class ServerSwitch implements AutoCloseable {
  private final Testbed testbed;
  private final boolean withDockerd;
  private final HttpServer server;
  private final ExecutorService thread = Executors.newSingleThreadExecutor();
  private final List<Instant> stops = new CopyOnWriteArrayList<>();
  private final List<Instant> starts = new CopyOnWriteArrayList<>();
  private volatile Duration lastStartTook;
  private volatile String failStarts;
  private volatile String startOutput = "started";

  private ServerSwitch(Testbed testbed, boolean withDockerd) throws IOException {
    this.testbed = testbed;
    this.withDockerd = withDockerd;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/status", exchange -> answer(exchange, 200, running() ? "Running" : "Stopped"));
    server.createContext("/stop", exchange -> {
      stops.add(Instant.now());
      if (withDockerd) {
        testbed.faults().terminateDockerd();
      }
      testbed.faults().killSshd();
      answer(exchange, 200, "stopped");
    });
    server.createContext("/start", exchange -> {
      String failure = failStarts;
      if (failure != null) {
        answer(exchange, 500, failure);
        return;
      }
      long began = System.nanoTime();
      starts.add(Instant.now());
      if (withDockerd) {
        testbed.faults().ensureDockerdRunning();
      }
      testbed.faults().ensureSshdRunning();
      lastStartTook = Duration.ofNanos(System.nanoTime() - began);
      answer(exchange, 200, startOutput);
    });
    server.setExecutor(thread);
    server.start();
  }

  /** A switch for sshd alone (containers keep running), or for sshd and dockerd (a full stop). */
  public static ServerSwitch start(Testbed testbed, boolean withDockerd) throws IOException {
    return new ServerSwitch(testbed, withDockerd);
  }

  /** {@code lifecycle.command} for this switch: status, start and stop. */
  public JsonObject commands() {
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    return new JsonObject()
        .put("status", "curl -sS --fail-with-body " + base + "/status")
        .put("start", "curl -sS --fail-with-body -X POST " + base + "/start")
        .put("stop", "curl -sS --fail-with-body -X POST " + base + "/stop")
        .put("timeout", "60s");
  }

  /** From now on a start fails (HTTP 500, curl exits 22) with {@code message} as its output; null heals. */
  public void failStarts(String message) {
    failStarts = message;
  }

  /** What a successful start prints from now on (e.g. an {@code address: host:port} line). */
  public void startPrints(String output) {
    startOutput = output;
  }

  public List<Instant> stops() {
    return List.copyOf(stops);
  }

  public List<Instant> starts() {
    return List.copyOf(starts);
  }

  /** How long the last successful start took (the daemons up and sshd answering). */
  public Duration lastStartTook() {
    return lastStartTook;
  }

  private boolean running() {
    Process sshd = testbed.daemon("sshd");
    return sshd != null && sshd.isAlive();
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  /** Stops the endpoint and leaves the testbed's daemons running, for the tests after this one. */
  @Override
  public void close() {
    server.stop(0);
    thread.shutdownNow();
    if (withDockerd) {
      testbed.faults().ensureDockerdRunning();
    }
    testbed.faults().ensureSshdRunning();
  }
}
