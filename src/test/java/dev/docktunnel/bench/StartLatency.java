package dev.docktunnel.bench;

import dev.docktunnel.testbed.Testbed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Container start → local port accepting, through docktunnel: a poller connects to
 * 127.0.0.1:P every ~1 ms from BEFORE {@code docker run -d -p P:80 ... httpd}; the latency is
 * from the container's {@code .State.StartedAt} (dockerd's clock, the same machine's) to the
 * first connect that succeeded.
 */
final class StartLatency {

    private static final Duration ACCEPT_TIMEOUT = Duration.ofSeconds(30);
    /** µs resolution on Linux (JDK 17), comparable with dockerd's nanosecond RFC 3339 time stamps. */
    private static final Clock WALL_CLOCK = Clock.systemUTC();

    private StartLatency() {
    }

    /** One container: returns milliseconds from StartedAt to the first accepted connect. */
    static double measureOne(Testbed testbed, String name, int port) throws IOException, InterruptedException {
        if (Ports.accepts("127.0.0.1", port)) {
            throw new IOException("127.0.0.1:" + port + " accepts before the container exists");
        }
        Poller poller = new Poller(port);
        poller.thread.start();
        String id = null;
        try {
            if (!poller.firstAttemptMade.await(5, TimeUnit.SECONDS)) {
                throw new IOException("the poller did not start");
            }
            id = testbed.docker("run", "-d", "--name", name, "-p", port + ":" + Testbed.HTTPD_CONTAINER_PORT,
                    Testbed.IMAGE, "httpd", "-f", "-p", Integer.toString(Testbed.HTTPD_CONTAINER_PORT), "-h", "/www")
                    .trim();
            poller.thread.join(ACCEPT_TIMEOUT.toMillis());
            Instant accepted = poller.acceptedAt;
            if (accepted == null) {
                throw new IOException("127.0.0.1:" + port + " did not accept within " + ACCEPT_TIMEOUT.toSeconds() + " s");
            }
            Instant started = Instant.parse(testbed.docker("inspect", "-f", "{{.State.StartedAt}}", id).trim());
            return Duration.between(started, accepted).toNanos() / 1e6;
        } finally {
            poller.stop = true;
            poller.thread.join(5_000);
            if (id != null) {
                testbed.dockerResult("rm", "-f", id);
            } else {
                testbed.dockerResult("rm", "-f", name); // a run that failed half-way may have created it
            }
        }
    }

    /** Connect attempts every ~1 ms until one succeeds, {@link #stop} is set, or the deadline. */
    private static final class Poller implements Runnable {
        final Thread thread;
        final int port;
        final CountDownLatch firstAttemptMade = new CountDownLatch(1);
        volatile boolean stop;
        volatile Instant acceptedAt;

        Poller(int port) {
            this.port = port;
            this.thread = new Thread(this, "bench-start-poller-" + port);
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
            long deadline = System.nanoTime() + ACCEPT_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(5);
            while (!stop && System.nanoTime() < deadline) {
                try (Socket socket = new Socket()) {
                    socket.connect(address, 100);
                    acceptedAt = WALL_CLOCK.instant();
                    return;
                } catch (IOException refused) {
                    // not forwarded yet
                } finally {
                    firstAttemptMade.countDown();
                }
                LockSupport.parkNanos(1_000_000); // the ~1 ms polling period
            }
        }
    }
}
