package dev.docktunnel.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Free local ports for published container ports and ssh forwards. */
final class Ports {

    private static final int LOWEST = 20_000;
    /** Ports handed out in this JVM: never twice, even after their container is gone. */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private Ports() {
    }

    /**
     * {@code count} distinct ports that can be bound on 127.0.0.1 (and ::1 where it exists) now.
     * They come from below the kernel's ephemeral range, so an outgoing connection of this
     * benchmark cannot take one before docktunnel or ssh binds it.
     */
    static synchronized List<Integer> freeLoopbackPorts(int count) {
        int highest = ephemeralLow() - 1;
        List<Integer> ports = new ArrayList<>();
        for (int attempt = 0; ports.size() < count && attempt < 10_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
            if (!HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                ports.add(port);
            }
        }
        if (ports.size() < count) {
            throw new IllegalStateException("found only " + ports.size() + " of " + count + " free loopback ports");
        }
        return ports;
    }

    static int freeLoopbackPort() {
        return freeLoopbackPorts(1).get(0);
    }

    static boolean accepts(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether something listens on 127.0.0.1:port, read from /proc/net/tcp and tcp6 (Netty's
     * epoll transport binds 127.0.0.1 with an IPv6 socket: {@code ::ffff:127.0.0.1}). Reading
     * /proc instead of connecting keeps stray connections out of the measurements.
     */
    static boolean listeningOnLoopback(int port) {
        String portHex = String.format(":%04X", port);
        List<String> loopback = List.of("0100007F" + portHex, "0000000000000000FFFF00000100007F" + portHex);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && loopback.contains(f[1]) && f[3].equals("0A")) { // 0A = LISTEN
                        return true;
                    }
                }
            } catch (IOException e) {
                // no IPv6 table on this machine
            }
        }
        return false;
    }

    private static boolean bindable(int port) {
        for (String address : List.of("127.0.0.1", "::1")) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
            } catch (IOException e) {
                if (address.equals("::1") && !hasIpv6Loopback()) {
                    continue;
                }
                return false;
            }
        }
        return true;
    }

    private static boolean hasIpv6Loopback() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The low end of {@code net.ipv4.ip_local_port_range} (32768 by default). */
    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Math.max(LOWEST + 1_000, Integer.parseInt(range.split("\\s+")[0]));
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
