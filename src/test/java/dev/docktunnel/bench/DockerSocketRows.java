package dev.docktunnel.bench;

import dev.docktunnel.testbed.Testbed;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The local Docker socket rows (issue 9): the real docker CLI, one process per command, through
 * four paths to the testbed's dockerd, all up for the whole run and measured round-robin:
 * the dockerd socket itself (no SSH), an {@code ssh -N -L} forward of that socket (the baseline),
 * Docker's own {@code docker -H ssh://}, and docktunnel's {@code <state-dir>/<host-id>/docker.sock}.
 */
final class DockerSocketRows implements AutoCloseable {

    /** The start of the reason docktunnel's row carries when its socket never appeared. */
    static final String NO_SOCKET = "docktunnel did not create its Docker socket";
    private static final Duration SOCKET_WAIT = Duration.ofSeconds(10);
    /**
     * Warm-up rounds through {@code docker -H ssh://}: each of its commands starts a fresh ssh
     * client, sshd child and remote docker, so there is nothing to warm beyond the page cache,
     * and its ~0.3 s per command would make the socket paths' warm-up (JIT) slow to buy.
     */
    private static final int DOCKER_SSH_WARMUP = 3;
    private static final Duration PS_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PING_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SAVE_TIMEOUT = Duration.ofSeconds(180);
    private static final String SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
    private static final File DEV_NULL = new File("/dev/null");
    /** stat(2)'s file-type bits and the type of a socket. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Testbed testbed;
    private final Path dir;
    private final Path wrapperBin;
    private final Process sshForward;
    private final List<DockerPath> paths = new ArrayList<>();

    private DockerSocketRows(Testbed testbed, Path dir, Path wrapperBin, Process sshForward) {
        this.testbed = testbed;
        this.dir = dir;
        this.wrapperBin = wrapperBin;
        this.sshForward = sshForward;
    }

    /**
     * Builds the bulk image, the {@code ssh} wrapper for {@code docker -H ssh://} and starts the
     * {@code ssh -L} socket forward: the reference paths, set up before docktunnel starts (as the
     * port paths are). {@link #addDocktunnel} adds docktunnel's path once it is ready.
     */
    static DockerSocketRows start(Testbed testbed) {
        Path dir = testbed.workDir().resolve("bench-docker");
        try {
            Files.createDirectories(dir.resolve("cli-config"));
            log("building the %d MiB image for docker save (docker import on the testbed's dockerd)",
                    BulkImage.SIZE_MIB);
            BulkImage.build(testbed);
            Path wrapperBin = writeSshWrapper(testbed, dir.resolve("bin"));
            Path local = dir.resolve("remote-docker.sock");
            List<String> forward = sshSocketForward(testbed, local);
            log("starting the ssh -L socket forward");
            Process ssh = new ProcessBuilder(forward)
                    .redirectInput(DEV_NULL)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("ssh-L-socket.log").toFile()))
                    .start();
            DockerSocketRows rows = new DockerSocketRows(testbed, dir, wrapperBin, ssh);
            try {
                Poll.until("the ssh -L socket forward at " + local, Duration.ofSeconds(15), () -> {
                    if (!ssh.isAlive()) {
                        throw new IllegalStateException("ssh -L socket forward exited with " + ssh.exitValue() + ": "
                                + rows.readOrEmpty(dir.resolve("ssh-L-socket.log")));
                    }
                    return isSocket(local);
                });
            } catch (RuntimeException e) {
                rows.close();
                throw e;
            }
            rows.paths.add(new DockerPath(DockerPath.DIRECT, "direct socket (no SSH)",
                    "docker -H " + testbed.dockerHost() + " (the testbed dockerd's own socket)",
                    testbed.dockerHost(), null));
            rows.paths.add(new DockerPath(DockerPath.SSH_SOCKET, "ssh -N -L socket aes128-gcm",
                    (String.join(" ", forward) + "; docker -H unix://" + local)
                            .replace(testbed.workDir().toString(), "$WORK"), "unix://" + local, null));
            String sshHost = "ssh://" + testbed.sshDestination() + ":" + testbed.sshPort();
            rows.paths.add(new DockerPath(DockerPath.DOCKER_SSH, "docker -H ssh://",
                    "docker -H " + sshHost + " (the docker CLI runs ssh ... docker system dial-stdio; `ssh` on PATH "
                            + "is a wrapper adding the testbed's client options and -c " + Benchmark.GCM
                            + "; the testbed's sshd_config SetEnv DOCKER_HOST points dial-stdio at its dockerd)",
                    sshHost, null));
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the Docker socket paths: " + e.getMessage(), e);
        }
    }

    /**
     * Adds docktunnel's socket: waits a little for it after "ready"; when it does not appear (a
     * build without the local Docker socket), the path is kept, marked unavailable, and its rows
     * say why instead of a number.
     */
    void addDocktunnel(DocktunnelProcess docktunnel) {
        Path socket = docktunnel.dockerSocket();
        String unavailable = null;
        try {
            Poll.until("docktunnel's Docker socket " + socket, SOCKET_WAIT, () -> {
                if (!docktunnel.isAlive()) {
                    throw new IllegalStateException("docktunnel exited:\n" + docktunnel.tail());
                }
                return isSocket(socket);
            });
        } catch (IllegalStateException e) {
            if (!docktunnel.isAlive()) {
                throw e;
            }
            unavailable = NO_SOCKET + " at " + socket + " within " + SOCKET_WAIT.toSeconds() + " s of 'ready' "
                    + (Files.isDirectory(socket.getParent())
                            ? "(a build without the local Docker socket of issue 9?)"
                            : "(nor its host folder: docktunnel's host id differs from the benchmark's?)");
            log("%s", unavailable);
        }
        paths.add(new DockerPath(DockerPath.DOCKTUNNEL, "docktunnel socket",
                "docker -H unix://<state-dir>/<host-id>/docker.sock (the docktunnel run of the port rows)",
                "unix://" + socket, unavailable));
    }

    List<DockerPath> paths() {
        return List.copyOf(paths);
    }

    // ---------------------------------------------------------------- docker ps

    /**
     * {@code warmup + runs} rounds of {@code docker ps}, each round once through every path in
     * {@code order}: drift and the CLI's own start-up cost hit all paths alike ({@code docker -H
     * ssh://} sits out the warm-up rounds after its first {@value #DOCKER_SSH_WARMUP}). A reference
     * path's failed command is tried once more; docktunnel's never.
     */
    void measurePs(Results results, List<DockerPath> order, int rep, int warmup, int runs) {
        List<DockerPath> live = new ArrayList<>();
        for (DockerPath path : order) {
            if (path.available()) {
                live.add(path);
            } else if (rep == 0) {
                results.fail(Measure.DOCKER_PS_P50, path.id(), path.unavailable());
                results.fail(Measure.DOCKER_PS_P99, path.id(), path.unavailable());
            }
        }
        Map<String, long[]> nanos = new HashMap<>();
        live.forEach(p -> nanos.put(p.id(), new long[runs]));
        Set<DockerPath> failed = new LinkedHashSet<>();
        for (int i = 0; i < warmup + runs; i++) {
            for (DockerPath path : live) {
                if (failed.contains(path) || (i < warmup && i >= DOCKER_SSH_WARMUP
                        && DockerPath.DOCKER_SSH.equals(path.id()))) {
                    continue;
                }
                try {
                    long elapsed = psWithRetry(path);
                    if (i >= warmup) {
                        nanos.get(path.id())[i - warmup] = elapsed;
                    }
                } catch (IOException e) {
                    failed.add(path);
                    log("  FAILED docker ps %s: %s", path.label(), e.getMessage());
                    results.fail(Measure.DOCKER_PS_P50, path.id(), e.getMessage());
                    results.fail(Measure.DOCKER_PS_P99, path.id(), e.getMessage());
                }
            }
        }
        for (DockerPath path : live) {
            if (failed.contains(path)) {
                continue;
            }
            long[] samples = nanos.get(path.id());
            double p50 = Stats.percentile(samples, 50) / 1e6;
            double p99 = Stats.percentile(samples, 99) / 1e6;
            results.add(Measure.DOCKER_PS_P50, path.id(), p50);
            results.add(Measure.DOCKER_PS_P99, path.id(), p99);
            results.addRawPerPath("dockerPsMicros", path.id(), Stats.microsecondHistogram(samples));
            log("  rep %d docker ps %-27s p50 %8.1f ms  p99 %8.1f ms", rep + 1, path.label(), p50, p99);
        }
    }

    // ---------------------------------------------------------------- API warm-up

    /**
     * Before the first repetition's {@code docker ps}: {@code requests} cycles of connect, {@code
     * GET /_ping}, read to EOF, close, through every socket path (not {@code docker -H ssh://}),
     * at most {@link Probes#WARMUP_LIMIT} per path. docktunnel's per-connection code needs a few
     * thousand connections to be compiled; a docker CLI process per connection would take minutes.
     * Discarded, as the iperf3 warm-up is; a failure is noted on the path's {@code docker ps} rows.
     */
    void warmUpApi(Results results, List<DockerPath> order, int requests) {
        ScheduledExecutorService closer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bench-ping-deadline");
            thread.setDaemon(true);
            return thread;
        });
        try {
            warmUpApi(results, order, requests, closer);
        } finally {
            closer.shutdownNow();
        }
    }

    private void warmUpApi(Results results, List<DockerPath> order, int requests, ScheduledExecutorService closer) {
        for (DockerPath path : order) {
            if (!path.available() || path.id().equals(DockerPath.DOCKER_SSH)) {
                continue; // docker -H ssh:// has no local socket, and nothing to warm
            }
            Path socket = Path.of(path.dockerHost().substring("unix://".length()));
            List<Double> micros = new ArrayList<>();
            long end = System.nanoTime() + Probes.WARMUP_LIMIT.toNanos();
            try {
                while (micros.size() < requests && System.nanoTime() < end) {
                    long start = System.nanoTime();
                    ping(socket, closer);
                    micros.add((System.nanoTime() - start) / 1e3);
                }
                log("  warm-up GET /_ping %-24s %5d connections, p50 %.2f ms", path.label(), micros.size(),
                        Stats.percentile(micros, 50) / 1e3);
            } catch (IOException e) {
                String message = "warm-up GET /_ping " + (micros.size() + 1) + " through " + socket + ": " + e.getMessage();
                log("  FAILED %s", message);
                results.fail(Measure.DOCKER_PS_P50, path.id(), message);
            }
        }
    }

    /** One {@code GET /_ping} over a new connection to {@code socket}, read to EOF, checked for 200 OK. */
    private static void ping(Path socket, ScheduledExecutorService closer) throws IOException {
        ByteBuffer request = ByteBuffer.wrap("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // A peer that never answers: closing the channel ends the blocked read (a bounded wait).
            ScheduledFuture<?> deadline = closer.schedule(() -> closeQuietly(channel), PING_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
            channel.connect(UnixDomainSocketAddress.of(socket));
            while (request.hasRemaining()) {
                channel.write(request);
            }
            // Read the answer by its Content-Length and close, as the docker CLI does: waiting for the
            // server's EOF instead costs ~40 ms through ssh -L (sshd sends the channel's EOF as a
            // second small packet without TCP_NODELAY: Nagle against the client's delayed ACK).
            while (!answerComplete(buffer) && channel.read(buffer) >= 0) {
                if (!buffer.hasRemaining()) {
                    throw new IOException("more than " + buffer.capacity() + " bytes in answer to GET /_ping");
                }
            }
            deadline.cancel(false);
        } catch (AsynchronousCloseException e) {
            throw new IOException("no complete answer within " + PING_TIMEOUT.toSeconds() + " s", e);
        }
        String answer = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
        if (!answer.startsWith("HTTP/1.1 200 ") || !answer.endsWith("\r\n\r\nOK")) {
            throw new IOException("unexpected answer to GET /_ping: " + firstLine(answer));
        }
    }

    /** Whether {@code buffer} (filled up to its position) holds an answer's headers and its whole Content-Length body. */
    static boolean answerComplete(ByteBuffer buffer) {
        String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
        int headersEnd = text.indexOf("\r\n\r\n");
        if (headersEnd < 0) {
            return false;
        }
        for (String line : text.substring(0, headersEnd).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
                try {
                    return text.length() - headersEnd - 4 >= Integer.parseInt(line.substring(colon + 1).trim());
                } catch (NumberFormatException e) {
                    return false; // read to EOF, and the check of the answer names it
                }
            }
        }
        return false; // no length: the answer ends with the connection
    }

    private long psWithRetry(DockerPath path) throws IOException {
        try {
            return ps(path);
        } catch (IOException e) {
            if (DockerPath.DOCKTUNNEL.equals(path.id())) {
                throw e;
            }
            log("  reference path %s: docker ps failed (%s): trying once more", path.label(), e.getMessage());
            return ps(path);
        }
    }

    /** One {@code docker -H ... ps}: nanoseconds from starting the CLI to its exit, checked for the header. */
    private long ps(DockerPath path) throws IOException {
        Path out = dir.resolve("ps-" + path.id() + ".out");
        ProcessBuilder builder = docker(path, "ps").redirectErrorStream(true).redirectOutput(out.toFile());
        long start = System.nanoTime();
        Process process = builder.start();
        boolean exited = waitFor(process, PS_TIMEOUT);
        long elapsed = System.nanoTime() - start;
        String text = readOrEmpty(out);
        if (!exited) {
            throw new IOException("docker -H " + path.dockerHost() + " ps did not finish within "
                    + PS_TIMEOUT.toSeconds() + " s: " + firstLine(text));
        }
        if (process.exitValue() != 0 || !text.startsWith("CONTAINER ID")) {
            throw new IOException("docker -H " + path.dockerHost() + " ps exited with " + process.exitValue() + ": "
                    + firstLine(text));
        }
        return elapsed;
    }

    // ---------------------------------------------------------------- docker save

    /**
     * {@code docker save} of the bulk image through every socket path in {@code order} (not
     * {@code docker -H ssh://}), read to the end and counted; one discarded save per path first on
     * the first repetition. A reference path's failure is tried once more; docktunnel's never.
     */
    void measureSave(Results results, List<DockerPath> order, int rep) {
        List<DockerPath> live = new ArrayList<>();
        for (DockerPath path : order) {
            if (!Measure.DOCKER_SAVE.appliesTo(path)) {
                continue;
            }
            if (path.available()) {
                live.add(path);
            } else if (rep == 0) {
                results.fail(Measure.DOCKER_SAVE, path.id(), path.unavailable());
            }
        }
        Set<DockerPath> failed = new LinkedHashSet<>();
        if (rep == 0) {
            for (DockerPath path : live) {
                try {
                    SaveRun run = save(path);
                    log("  warm-up docker save %-22s %7.1f MiB/s", path.label(), run.mibPerSecond());
                } catch (IOException e) {
                    log("  FAILED warm-up docker save %s: %s", path.label(), e.getMessage());
                    if (DockerPath.DOCKTUNNEL.equals(path.id())) {
                        failed.add(path);
                        results.fail(Measure.DOCKER_SAVE, path.id(), "warm-up: " + e.getMessage());
                    }
                }
            }
        }
        for (DockerPath path : live) {
            if (failed.contains(path)) {
                continue;
            }
            SaveRun run;
            try {
                try {
                    run = save(path);
                } catch (IOException e) {
                    if (DockerPath.DOCKTUNNEL.equals(path.id())) {
                        throw e;
                    }
                    log("  reference path %s: docker save failed (%s): trying once more", path.label(), e.getMessage());
                    run = save(path);
                }
            } catch (IOException e) {
                log("  FAILED docker save %s: %s", path.label(), e.getMessage());
                results.fail(Measure.DOCKER_SAVE, path.id(), e.getMessage());
                continue;
            }
            results.add(Measure.DOCKER_SAVE, path.id(), run.mibPerSecond());
            results.addRaw("dockerSaveRuns", new JsonObject().put("path", path.id()).put("repetition", rep + 1)
                    .put("bytes", run.bytes()).put("seconds", run.seconds()).put("mibPerSecond", run.mibPerSecond()));
            log("  rep %d docker save %-26s %7.1f MiB/s (%d bytes in %.2f s)", rep + 1, path.label(),
                    run.mibPerSecond(), run.bytes(), run.seconds());
        }
    }

    /** One {@code docker save}: its bytes (read here, as a pipe to /dev/null would) and seconds. */
    private record SaveRun(long bytes, double seconds) {
        double mibPerSecond() {
            return bytes / (double) (1 << 20) / seconds;
        }
    }

    private SaveRun save(DockerPath path) throws IOException {
        Path err = dir.resolve("save-" + path.id() + ".err");
        ProcessBuilder builder = docker(path, "save", BulkImage.IMAGE).redirectError(err.toFile());
        long start = System.nanoTime();
        Process process = builder.start();
        // A hung save must not hang the benchmark: the watchdog kills it, and the read below ends.
        Thread watchdog = new Thread(() -> {
            if (!waitFor(process, SAVE_TIMEOUT)) {
                process.destroyForcibly();
            }
        }, "bench-docker-save-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        long bytes = 0;
        byte[] buffer = new byte[256 * 1024];
        try (InputStream in = process.getInputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                bytes += n;
            }
        }
        boolean exited = waitFor(process, Duration.ofSeconds(10));
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!exited || process.exitValue() != 0) {
            throw new IOException("docker -H " + path.dockerHost() + " save " + BulkImage.IMAGE
                    + (exited ? " exited with " + process.exitValue() : " did not finish within "
                            + SAVE_TIMEOUT.toSeconds() + " s") + " after " + bytes + " bytes: " + firstLine(readOrEmpty(err)));
        }
        long expected = (long) BulkImage.SIZE_MIB << 20;
        if (bytes < expected) {
            throw new IOException("docker -H " + path.dockerHost() + " save gave " + bytes + " bytes, less than the "
                    + expected + " of the image's payload");
        }
        return new SaveRun(bytes, seconds);
    }

    // ---------------------------------------------------------------- processes

    /**
     * The docker CLI the testbed uses, against {@code path}, with its own config dir, no inherited
     * {@code DOCKER_*}, and the {@code ssh} wrapper first on PATH (only {@code docker -H ssh://} runs it).
     */
    private ProcessBuilder docker(DockerPath path, String... args) {
        List<String> command = new ArrayList<>(List.of(testbed.dockerCli().toString(), "-H", path.dockerHost()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(DEV_NULL);
        Map<String, String> env = builder.environment();
        for (String name : List.of("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")) {
            env.remove(name);
        }
        env.put("DOCKER_CONFIG", dir.resolve("cli-config").toString());
        env.put("PATH", wrapperBin + ":" + SYSTEM_PATH);
        return builder;
    }

    /**
     * {@code <dir>/ssh}: the docker CLI runs {@code ssh} from PATH with its own arguments; this
     * wrapper puts the testbed's client options (key, known_hosts, no user config or agent) and
     * the cipher of the {@code ssh -L} rows in front of them.
     */
    private static Path writeSshWrapper(Testbed testbed, Path bin) throws IOException {
        Files.createDirectories(bin);
        List<String> options = new ArrayList<>(testbed.sshClientOptions());
        options.addAll(List.of("-c", Benchmark.GCM));
        String script = "#!/bin/sh\n"
                + "# docktunnel benchmark: docker -H ssh:// runs `ssh` from PATH; same client options as the ssh -L rows.\n"
                + "exec " + shellQuote(HostTools.find("ssh")) + " "
                + options.stream().map(DockerSocketRows::shellQuote).collect(Collectors.joining(" ")) + " \"$@\"\n";
        Path wrapper = bin.resolve("ssh");
        Files.writeString(wrapper, script);
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    /** {@code ssh ... -N -L <local socket>:<testbed dockerd socket> root@ns}, aes128-gcm. */
    private static List<String> sshSocketForward(Testbed testbed, Path local) {
        List<String> command = new ArrayList<>();
        command.add(HostTools.find("ssh"));
        command.addAll(testbed.sshClientOptions());
        command.addAll(List.of("-N", "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=10",
                "-o", "StreamLocalBindUnlink=yes", "-c", Benchmark.GCM,
                "-L", local + ":" + testbed.dockerSocket(), testbed.sshDestination()));
        return command;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // it is being closed anyway: the read it ends reports the timeout
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    static boolean isSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & S_IFMT) == S_IFSOCK;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while waiting for " + process.info().command().orElse("a process"), e);
        }
    }

    private String readOrEmpty(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e.getMessage() + ")";
        }
    }

    private static String firstLine(String text) {
        String trimmed = text.strip();
        int newline = trimmed.indexOf('\n');
        return newline < 0 ? trimmed : trimmed.substring(0, newline);
    }

    private static void log(String format, Object... args) {
        Benchmark.log(format, args);
    }

    /** Stops the {@code ssh -L} socket forward, by handle: SIGTERM, then SIGKILL. */
    @Override
    public void close() {
        sshForward.destroy();
        if (!waitFor(sshForward, Duration.ofSeconds(5))) {
            sshForward.destroyForcibly();
            waitFor(sshForward, Duration.ofSeconds(5));
        }
    }
}
