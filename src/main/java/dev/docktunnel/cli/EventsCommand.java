package dev.docktunnel.cli;

import dev.docktunnel.bus.Addresses;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import dev.docktunnel.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code docktunnel events}: tails a running daemon's facts as a client of its TCP event-bus
 * bridge, whose port it reads from the host's state file. One line per fact; {@code --json}: one
 * JSON object per line, {@code {"address": <fact address>, "body": <the fact>}} (the bridge's frame
 * fields; the address is needed, and some facts have an {@code address} field of their own). Ends with exit 0 on Ctrl-C and exit 1, naming the port and
 * the state file, when the daemon cannot be reached or goes away.
 */
@Command(name = "events", mixinStandardHelpOptions = true,
    description = "Print the running daemon's events (tunnel facts) as they happen, from its event bridge.")
public final class EventsCommand implements Callable<Integer> {
  /** A frame from the daemon over this is not one of ours: the client stops rather than buffer it. */
  static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;
  private static final int CONNECT_TIMEOUT_MS = 5_000;

  @Spec
  CommandSpec spec;

  /** --host, --state-dir, --ssh-config, --config: as status and stop find a host. */
  @Mixin
  HostOptions hostOptions;

  @Option(names = "--json", description = "one JSON object per line: {\"address\": <fact address>, \"body\": <the fact>}")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    EventsCommandTarget target;
    try {
      target = EventsCommandTarget.find(hostOptions, ConfigLoader.forThisProcess());
    } catch (EventsCommandTarget.NotFoundException e) {
      err.println("docktunnel events: " + e.getMessage());
      return e.usage() ? ExitCodes.USAGE : ExitCodes.FAILED;
    }
    return follow(target, spec.commandLine().getOut(), err);
  }

  /** Connects, registers every fact and prints until the daemon goes away or the user stops. */
  int follow(EventsCommandTarget target, PrintWriter out, PrintWriter err) {
    String where = "127.0.0.1:" + target.port() + " (bridgePort in " + target.stateFile() + ")";
    AtomicBoolean stopping = new AtomicBoolean();
    try (Socket socket = new Socket()) {
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", target.port()), CONNECT_TIMEOUT_MS);
      } catch (IOException e) {
        err.println("docktunnel events: cannot reach the event bridge at " + where + ": " + e.getMessage()
            + "; is `docktunnel run` for " + target.host() + " running?");
        return ExitCodes.FAILED;
      }
      // Ctrl-C: the JVM would end with 130 mid-line; end the stream cleanly with 0 instead.
      Thread hook = new Thread(() -> {
        stopping.set(true);
        out.flush();
        Runtime.getRuntime().halt(ExitCodes.OK);
      }, "docktunnel-events-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        OutputStream toBridge = socket.getOutputStream();
        for (String address : Addresses.FACTS) {
          writeFrame(toBridge, new JsonObject().put("type", "register").put("address", address));
        }
        // The bridge handles a connection's frames in order: its pong says every register took effect.
        writeFrame(toBridge, new JsonObject().put("type", "ping"));
        boolean following = false;
        DataInputStream in = new DataInputStream(socket.getInputStream());
        EventsCommandLines lines = new EventsCommandLines(Clock.systemUTC());
        while (true) {
          JsonObject frame = readFrame(in);
          String type = frame.getString("type", "");
          if ("message".equals(type) && frame.getValue("body") instanceof JsonObject body) {
            String address = frame.getString("address", "?");
            // --json: the bridge's own frame fields, so one parser serves both
            out.println(json ? new JsonObject().put("address", address).put("body", body).encode()
                : lines.line(address, body));
            out.flush();
          } else if ("pong".equals(type) && !following) {
            following = true;
            err.println("docktunnel events: following " + target.host() + " at " + where + "; Ctrl-C to stop");
            err.flush();
          } else if ("err".equals(type)) {
            err.println("docktunnel events: the bridge refused a request: " + frame.getString("message") + " "
                + frame.getString("reason", ""));
          }
        }
      } catch (EOFException e) {
        err.println("docktunnel events: the daemon closed the event bridge at " + where
            + ": it stopped or went away");
        return ExitCodes.FAILED;
      } catch (IOException | RuntimeException e) {
        if (stopping.get()) {
          return ExitCodes.OK;
        }
        err.println("docktunnel events: lost the event bridge at " + where + ": " + e.getMessage());
        return ExitCodes.FAILED;
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs and ends the process
        }
      }
    } catch (IOException e) {
      err.println("docktunnel events: " + e.getMessage());
      return ExitCodes.FAILED;
    }
  }

  static void writeFrame(OutputStream out, JsonObject frame) throws IOException {
    byte[] bytes = frame.encode().getBytes(StandardCharsets.UTF_8);
    out.write(ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array());
    out.flush();
  }

  static JsonObject readFrame(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > MAX_FRAME_BYTES) {
      throw new IOException("the bridge sent a frame of " + Integer.toUnsignedString(length)
          + " bytes, over " + MAX_FRAME_BYTES + "; not a docktunnel bridge?");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return new JsonObject(new String(bytes, StandardCharsets.UTF_8));
  }
}
