package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Small shared helpers of the integration tests: report a figure, pick free ports, wait for a
 * closed one, read a size property.
 */
public final class Figures {
    private Figures() {
    }

    /** One measured figure on stdout (kept in the failsafe report), prefixed for grepping. */
    public static void report(String format, Object... args) {
        System.out.println("[figures] " + String.format(format, args));
    }

    /** An integer system property (e.g. {@code -Dfaults.rekey.seconds=60}), or {@code fallback}. */
    public static int intProperty(String name, int fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + name + " must be an integer, got '" + value + "'");
        }
    }

    /** {@code count} distinct ports free on this host's loopback right now (held together while picked). */
    public static List<Integer> freePorts(int count) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a listener we just opened
                }
            }
        }
    }

    public static int freePort() {
        return freePorts(1).get(0);
    }

    /**
     * Waits (bounded, 5 s) until nothing accepts on loopback {@code port}. A forward's stopped fact
     * is published as its listener's close is handed to a Netty loop, which closes the socket a
     * moment later; a connection caught in the closing listener's backlog is reset, not refused.
     */
    public static void awaitRefused(int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                // still accepting
            } catch (ConnectException refused) {
                return;
            } catch (IOException resetInTheBacklog) {
                // the listener closed with this connection in its backlog: poll again for the refusal
            }
            if (System.nanoTime() >= deadline) {
                throw new AssertionError("port " + port + " still accepts 5 s after its forward stopped");
            }
            Thread.sleep(10); // polling the port, bounded by the deadline
        }
    }
}
