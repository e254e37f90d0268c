package dev.docktunnel.bench;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The latency clients (plain JDK sockets) and the iperf3 command line with its JSON parsed. */
final class Probes {

    static final int PING_PONG_BYTES = 64;
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 10_000;
    private static final byte[] HTTP_REQUEST = "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private Probes() {
    }

    /**
     * {@code warmup + count} round trips of 64 bytes over ONE connection to the echo container;
     * returns the nanoseconds of the last {@code count}.
     */
    static long[] pingPong(String host, int port, int warmup, int count) throws IOException {
        byte[] request = new byte[PING_PONG_BYTES];
        for (int i = 0; i < request.length; i++) {
            request[i] = (byte) ('a' + i % 26);
        }
        byte[] reply = new byte[PING_PONG_BYTES];
        long[] nanos = new long[count];
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true); // our own writes go out at once; what is measured is the path
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < warmup + count; i++) {
                long start = System.nanoTime();
                out.write(request);
                int read = in.readNBytes(reply, 0, reply.length);
                long elapsed = System.nanoTime() - start;
                if (read != reply.length) {
                    throw new IOException("echo closed after " + read + " of " + reply.length + " bytes (round trip " + i + ")");
                }
                if (i >= warmup) {
                    nanos[i - warmup] = elapsed;
                }
            }
        }
        return nanos;
    }

    /**
     * {@code warmup + count} times: connect, send {@code GET / HTTP/1.0}, read to EOF, close;
     * returns the nanoseconds of the last {@code count} whole cycles.
     */
    /** Longest HTTP warm-up per call. */
    static final java.time.Duration WARMUP_LIMIT = java.time.Duration.ofSeconds(15);

    static long[] httpGets(String host, int port, int warmup, int count, String expectedBody) throws IOException {
        long[] nanos = new long[count];
        // The warm-up ends after `warmup` requests or WARMUP_LIMIT, whichever comes first: paths
        // that pay Nagle's ~44 ms per request would otherwise spend minutes warming up.
        long warmupEnd = System.nanoTime() + WARMUP_LIMIT.toNanos();
        for (int i = 0; i < warmup + count; i++) {
            if (i < warmup && System.nanoTime() > warmupEnd) {
                i = warmup;
            }
            long start = System.nanoTime();
            byte[] response;
            try (Socket socket = new Socket()) {
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                socket.setSoTimeout(READ_TIMEOUT_MS);
                socket.getOutputStream().write(HTTP_REQUEST);
                response = socket.getInputStream().readAllBytes();
            }
            long elapsed = System.nanoTime() - start;
            String text = new String(response, StandardCharsets.ISO_8859_1);
            if (!text.startsWith("HTTP/1.") || !text.contains(" 200 ") || !text.endsWith(expectedBody)) {
                throw new IOException("unexpected HTTP response (request " + i + "): "
                        + text.substring(0, Math.min(200, text.length())));
            }
            if (i >= warmup) {
                nanos[i - warmup] = elapsed;
            }
        }
        return nanos;
    }

    /** The three iperf3 runs per path. */
    enum IperfMode {
        ONE_STREAM(Measure.THROUGHPUT_1, Measure.CPU_PER_GBIT_1, List.of()),
        FOUR_STREAMS(Measure.THROUGHPUT_4, Measure.CPU_PER_GBIT_4, List.of("-P", "4")),
        REVERSE(Measure.THROUGHPUT_REVERSE, Measure.CPU_PER_GBIT_REVERSE, List.of("-R"));

        final Measure throughput;
        final Measure cpuPerGbit;
        final List<String> options;

        IperfMode(Measure throughput, Measure cpuPerGbit, List<String> options) {
            this.throughput = throughput;
            this.cpuPerGbit = cpuPerGbit;
            this.options = options;
        }
    }

    /** {@code iperf3 -c host -p port -t seconds -J [mode options]}. */
    static List<String> iperfCommand(String iperf3, String host, int port, int seconds, IperfMode mode) {
        List<String> command = new ArrayList<>(List.of(iperf3, "-c", host, "-p", Integer.toString(port),
                "-t", Integer.toString(seconds), "-J", "--connect-timeout", "5000"));
        command.addAll(mode.options);
        return command;
    }

    /** What one iperf3 run reports at the receiving end. */
    record IperfResult(double bitsPerSecond, long bytes, JsonObject summary) {
    }

    /** Parses iperf3's {@code -J} output: {@code end.sum_received}; throws with iperf3's own error. */
    static IperfResult parseIperf(String json) throws IOException {
        JsonObject root;
        try {
            root = new JsonObject(json);
        } catch (DecodeException e) {
            throw new IOException("iperf3 printed no JSON: " + json.substring(0, Math.min(300, json.length())));
        }
        if (root.getString("error") != null) {
            throw new IOException("iperf3: " + root.getString("error"));
        }
        JsonObject end = root.getJsonObject("end");
        JsonObject received = end == null ? null : end.getJsonObject("sum_received");
        if (received == null || received.getNumber("bits_per_second") == null) {
            throw new IOException("iperf3 JSON has no end.sum_received.bits_per_second");
        }
        JsonObject summary = new JsonObject()
                .put("bitsPerSecond", received.getDouble("bits_per_second"))
                .put("bytes", received.getLong("bytes"))
                .put("seconds", received.getDouble("seconds"));
        JsonObject sent = end.getJsonObject("sum_sent");
        if (sent != null && sent.getNumber("retransmits") != null) {
            summary.put("retransmits", sent.getLong("retransmits"));
        }
        JsonObject cpu = end.getJsonObject("cpu_utilization_percent");
        if (cpu != null) {
            summary.put("iperfHostCpuPercent", cpu.getDouble("host_total"))
                    .put("iperfRemoteCpuPercent", cpu.getDouble("remote_total"));
        }
        return new IperfResult(received.getDouble("bits_per_second"), received.getLong("bytes"), summary);
    }
}
