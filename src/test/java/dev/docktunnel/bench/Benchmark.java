package dev.docktunnel.bench;

import dev.docktunnel.bench.Probes.IperfMode;
import dev.docktunnel.testbed.ProcessResult;
import dev.docktunnel.testbed.Testbed;
import dev.docktunnel.testbed.Testbed.LocalForward;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.concurrent.TimeUnit;

/**
 * docktunnel against {@code ssh -L}, side by side in one run (issue 3): builds a testbed, runs
 * the shipped jar as users do, measures every path through the same sshd, prints one table and
 * writes the JSON. {@code bench/run} is the documented way to start it; {@code BenchmarkIT} runs
 * the quick mode in CI.
 *
 * <p>Paths: {@code direct} (no SSH: the ceiling), {@code ssh -N -L} with aes128-gcm and with
 * OpenSSH's default cipher, {@code ssh -tt -L} (a PTY session, so sshd sets TCP_NODELAY) with
 * aes128-gcm, and docktunnel. Each repetition measures every path before the next repetition
 * starts (rotating which path goes first), so drift hits all paths alike.
 *
 * <p>The local Docker socket rows (issue 9, {@link DockerSocketRows}): the docker CLI through the
 * dockerd socket itself, an {@code ssh -N -L} forward of it (their baseline), {@code docker -H
 * ssh://} and docktunnel's socket, in the same repetitions. {@code --only ports|docker} runs one half.
 */
public final class Benchmark {

    static final String GCM = "aes128-gcm@openssh.com";
    private static final Duration DOCKTUNNEL_READY = Duration.ofSeconds(60);
    private static final Duration IPERF_SLACK = Duration.ofSeconds(30);
    private static final Duration BUSY_RETRY_WINDOW = Duration.ofSeconds(20);
    /** Above this CPU use by others before the start, the table carries a warning. */
    static final double BUSY_WARNING = 0.10;
    private static final long SAMPLE_PERIOD_MILLIS = 50;
    /** How long docktunnel runs without traffic before its idle RSS is read. */
    private static final Duration IDLE_SETTLE = Duration.ofSeconds(20);
    /** docktunnel's output of the last run (the testbed's work dir, where it ran, is removed). */
    static final Path DOCKTUNNEL_LOG = Path.of("target", "bench", "docktunnel-last-run.log");

    private final BenchOptions options;
    private final Testbed testbed;
    private final String iperf3;
    private final long clockTicks = ProcStat.clockTicksPerSecond();
    private Results results;

    private Benchmark(BenchOptions options, Testbed testbed, String iperf3) {
        this.options = options;
        this.testbed = testbed;
        this.iperf3 = iperf3;
    }

    public static void main(String[] args) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.println(BenchOptions.USAGE);
            return;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        BenchReport report;
        try {
            report = run(options);
        } catch (RuntimeException e) {
            System.err.println("benchmark failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
            return;
        }
        // Non-zero when a measurement produced no number (the table says which); never for a missed target.
        System.exit(report.missing().isEmpty() ? 0 : 1);
    }

    /** Runs the whole benchmark: prints the table to stdout, writes the JSON, returns both. */
    static BenchReport run(BenchOptions options) {
        if (!Machine.isRoot()) {
            throw new IllegalStateException("the benchmark must run as root: it builds a network namespace "
                    + "with sshd and dockerd (the testbed); run: sudo bench/run");
        }
        String iperf3 = HostTools.find("iperf3");
        Instant startedAt = Instant.now();
        JsonObject machine = Machine.describe(iperf3);
        Double busy = Machine.cpuBusyFraction(Duration.ofSeconds(2));
        machine.put("cpuBusyBeforeStart", busy);
        if (busy != null && busy > BUSY_WARNING) {
            log("WARNING: the CPUs were %.0f%% busy before the start: other processes compete with the paths "
                    + "measured, so these numbers are not comparable with a quiet run", busy * 100);
        }
        log("%s mode: %d repetition(s), iperf3 -t %d, %d ping-pongs, %d HTTP requests, %d containers, "
                + "%d docker ps per path, docker save of %d MiB; running: %s",
                options.mode().name().toLowerCase(), options.repetitions(), options.iperfSeconds(),
                options.pingPongRoundTrips(), options.httpRequests(), options.startContainers(),
                options.dockerPsRuns(), BulkImage.SIZE_MIB, options.groups());
        Thread thisThread = Thread.currentThread();
        Thread onInterrupt = new Thread(() -> {
            stopping = true; // Ctrl-C / SIGTERM: no JSON from a run cut short
            thisThread.interrupt();
        }, "bench-interrupt");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try (Testbed testbed = Testbed.start()) {
            Benchmark benchmark = new Benchmark(options, testbed, iperf3);
            Results results = benchmark.runOn();
            checkNotStopping();
            BenchReport report = BenchReport.of(options, machine, results, startedAt, Instant.now());
            System.out.println(report.table());
            report.write();
            log("results written to %s", options.out().toAbsolutePath());
            return report;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
    }

    private static volatile boolean stopping;

    /** Throws when the JVM is shutting down (the testbed is being torn down under us). */
    private static void checkNotStopping() {
        if (stopping) {
            throw new IllegalStateException("interrupted: the benchmark was stopped before it finished; no results written");
        }
    }

    /** Sets up containers and paths on the testbed, measures, and stops every process it started. */
    private Results runOn() {
        boolean ports = options.runs(Measure.Group.PORTS);
        List<Integer> localPorts = List.of();
        int iperfPort = 0;
        int echoPort = 0;
        int httpPort = 0;
        if (ports) {
            log("building the iperf3 image and starting the containers");
            IperfImage.build(testbed, Path.of(iperf3));
            // Published ports are forwarded by docktunnel to the same local port: all must be free here.
            localPorts = Ports.freeLoopbackPorts(3 + 3 * 3);
            iperfPort = localPorts.get(0);
            echoPort = localPorts.get(1);
            httpPort = localPorts.get(2);
            IperfImage.runServer(testbed, "bench-iperf3", iperfPort);
            testbed.runEchoServer("bench-echo", echoPort);
            testbed.runHttpd("bench-httpd", httpPort);
        }

        List<Process> sshProcesses = new ArrayList<>();
        DocktunnelProcess docktunnel = null;
        DockerSocketRows docker = null;
        try {
            List<BenchPath> paths = new ArrayList<>();
            if (ports) {
                paths.add(new BenchPath(BenchPath.DIRECT, "direct (no SSH)",
                        "host → " + testbed.namespaceIp() + ":P (the remote engine's published port, no SSH)",
                        testbed.namespaceIp(), iperfPort, echoPort, httpPort, null));
                paths.add(sshPath(sshProcesses, BenchPath.SSH_GCM, "ssh -N -L aes128-gcm",
                        List.of("-c", GCM), List.of(), localPorts.subList(3, 6), iperfPort, echoPort, httpPort));
                paths.add(sshPath(sshProcesses, BenchPath.SSH_DEFAULT, "ssh -N -L default cipher",
                        List.of(), List.of(), localPorts.subList(6, 9), iperfPort, echoPort, httpPort));
                paths.add(sshPath(sshProcesses, BenchPath.SSH_PTY_GCM, "ssh -tt -L aes128-gcm",
                        List.of("-tt", "-c", GCM), List.of("sleep", "1000000"), localPorts.subList(9, 12),
                        iperfPort, echoPort, httpPort));
            }
            if (options.runs(Measure.Group.DOCKER)) {
                docker = DockerSocketRows.start(testbed);
            }

            log("starting docktunnel (%s)", options.jar());
            docktunnel = DocktunnelProcess.start(testbed, options.jar(), testbed.workDir().resolve("bench-docktunnel"));
            docktunnel.awaitReady(DOCKTUNNEL_READY);
            DocktunnelProcess running = docktunnel;
            if (ports) {
                List<Integer> forwarded = List.of(iperfPort, echoPort, httpPort);
                // Watch for the listeners (no probe connection: it would count as traffic).
                Poll.until("docktunnel forwarding ports " + forwarded, Duration.ofSeconds(30), () -> {
                    if (!running.isAlive()) {
                        throw new IllegalStateException("docktunnel exited:\n" + running.tail());
                    }
                    return forwarded.stream().allMatch(Ports::listeningOnLoopback);
                });
                paths.add(new BenchPath(BenchPath.DOCKTUNNEL, "docktunnel",
                        "bin/docktunnel run ... (java " + String.join(" ", DocktunnelProcess.JVM_OPTIONS) + " -jar "
                                + options.jar() + ")",
                        "127.0.0.1", iperfPort, echoPort, httpPort, docktunnel.handle()));
            }
            if (docker != null) {
                docker.addDocktunnel(docktunnel);
            }

            results = new Results(paths, docker == null ? List.of() : docker.paths());
            measureAll(docktunnel, docker);
            return results;
        } catch (RuntimeException e) {
            if (docktunnel != null) {
                log("docktunnel output (tail):%n%s", docktunnel.tail());
            }
            throw e;
        } finally {
            if (docktunnel != null) {
                docktunnel.close();
                docktunnel.keepLog(DOCKTUNNEL_LOG);
            }
            for (Process ssh : sshProcesses) {
                stop(ssh);
            }
            if (docker != null) {
                docker.close();
            }
        }
    }

    private BenchPath sshPath(List<Process> started, String id, String label, List<String> sshOptions,
                              List<String> remoteCommand, List<Integer> localPorts, int iperfPort, int echoPort,
                              int httpPort) {
        List<LocalForward> forwards = List.of(
                new LocalForward(localPorts.get(0), "127.0.0.1", iperfPort),
                new LocalForward(localPorts.get(1), "127.0.0.1", echoPort),
                new LocalForward(localPorts.get(2), "127.0.0.1", httpPort));
        log("starting %s", label);
        Process ssh = testbed.startSshLocalForwards(forwards, sshOptions, remoteCommand);
        started.add(ssh);
        String how = "ssh " + String.join(" ", sshOptions) + (remoteCommand.isEmpty() ? " -N" : "")
                + " -L 127.0.0.1:LOCAL:127.0.0.1:P " + testbed.sshDestination()
                + (remoteCommand.isEmpty() ? "" : " " + String.join(" ", remoteCommand) + " (stdin: an open pipe)");
        return new BenchPath(id, label, how, "127.0.0.1", localPorts.get(0), localPorts.get(1), localPorts.get(2),
                ssh.toHandle());
    }

    // ---------------------------------------------------------------- the measurements

    private void measureAll(DocktunnelProcess docktunnel, DockerSocketRows docker) {
        boolean ports = options.runs(Measure.Group.PORTS);
        List<BenchPath> paths = results.paths();
        ProcStat.Status idle = null;
        if (ports) {
            try {
                // Idle as a daemon sits between uses, not in its first seconds: start-up's JIT work
                // is done and the launcher's native-heap trim has run.
                log("letting docktunnel settle for %d s before its idle footprint", IDLE_SETTLE.toSeconds());
                Thread.sleep(IDLE_SETTLE.toMillis());
                idle = ProcStat.status(docktunnel.pid());
            } catch (IOException e) {
                results.fail(Measure.RSS_IDLE, BenchPath.DOCKTUNNEL, e.getMessage());
                results.fail(Measure.THREADS_IDLE, BenchPath.DOCKTUNNEL, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while docktunnel settled", e);
            }
        }
        if (idle != null) {
            results.add(Measure.RSS_IDLE, BenchPath.DOCKTUNNEL, idle.rssMib());
            results.add(Measure.THREADS_IDLE, BenchPath.DOCKTUNNEL, idle.threads());
            log("docktunnel idle: RSS %.1f MiB, %d threads", idle.rssMib(), idle.threads());
        }
        try (ProcStat.Sampler sampler = new ProcStat.Sampler(docktunnel.pid(), SAMPLE_PERIOD_MILLIS)) {
            if (ports) {
                log("warm-up: one %d s iperf3 run per path (discarded)", options.warmupIperfSeconds());
                for (BenchPath path : paths) {
                    iperf(path, IperfMode.ONE_STREAM, options.warmupIperfSeconds(), -1);
                }
            }
            for (int rep = 0; rep < options.repetitions(); rep++) {
                List<BenchPath> order = rotated(paths, rep);
                int repetition = rep;
                for (IperfMode mode : ports ? IperfMode.values() : new IperfMode[0]) {
                    for (BenchPath path : order) {
                        checkNotStopping();
                        measure(path, () -> iperf(path, mode, options.iperfSeconds(), repetition));
                    }
                }
                for (BenchPath path : order) {
                    checkNotStopping();
                    measure(path, () -> pingPong(path, repetition));
                }
                for (BenchPath path : order) {
                    checkNotStopping();
                    measure(path, () -> http(path, repetition));
                }
                if (docker != null) {
                    checkNotStopping();
                    List<DockerPath> dockerOrder = rotated(results.dockerPaths(), rep);
                    if (rep == 0) {
                        log("warm-up: %d connections with GET /_ping per Docker socket path (discarded)",
                                options.dockerApiWarmup());
                        docker.warmUpApi(results, dockerOrder, options.dockerApiWarmup());
                    }
                    log("docker ps: %d rounds through every Docker socket path (%d warm-up)", options.dockerPsRuns(),
                            rep == 0 ? options.dockerPsWarmup() : 0);
                    docker.measurePs(results, dockerOrder, rep, rep == 0 ? options.dockerPsWarmup() : 0,
                            options.dockerPsRuns());
                    checkNotStopping();
                    docker.measureSave(results, dockerOrder, rep);
                }
            }
            if (!ports) {
                return;
            }
            startLatency(docktunnel);
            ProcStat.Status max = sampler.max();
            if (max != null) {
                results.add(Measure.RSS_LOAD, BenchPath.DOCKTUNNEL, max.rssMib());
                results.add(Measure.THREADS_LOAD, BenchPath.DOCKTUNNEL, max.threads());
                results.putRaw("resourceSamples", "count", sampler.samples());
                results.putRaw("resourceSamples", "periodMillis", SAMPLE_PERIOD_MILLIS);
            } else {
                String why = "no /proc sample of docktunnel: " + sampler.lastError();
                results.fail(Measure.RSS_LOAD, BenchPath.DOCKTUNNEL, why);
                results.fail(Measure.THREADS_LOAD, BenchPath.DOCKTUNNEL, why);
            }
        } finally {
            if (!docktunnel.isAlive()) {
                log("docktunnel exited during the run:%n%s", docktunnel.tail());
            }
        }
    }

    /** One iperf3 run; {@code rep} < 0 is a warm-up whose numbers are not kept. */
    private boolean iperf(BenchPath path, IperfMode mode, int seconds, int rep) {
        List<String> command = Probes.iperfCommand(iperf3, path.host(), path.iperfPort(), seconds, mode);
        try {
            IperfRun run = runIperf(path, command, seconds);
            Probes.IperfResult result = run.result();
            double gigabits = result.bytes() * 8 / 1e9;
            if (rep < 0) {
                log("  warm-up %-26s %6.2f Gbit/s", path.label(), result.bitsPerSecond() / 1e9);
                return true;
            }
            results.add(mode.throughput, path.id(), result.bitsPerSecond() / 1e9);
            JsonObject raw = result.summary().copy().put("path", path.id()).put("mode", mode.name().toLowerCase())
                    .put("repetition", rep + 1).put("busyRetries", run.busyRetries());
            if (path.client() != null) {
                results.add(mode.cpuPerGbit, path.id(), run.clientCpuSeconds() / gigabits);
                raw.put("clientCpuSeconds", run.clientCpuSeconds());
            }
            results.addRaw("iperf3Runs", raw);
            log("  rep %d %-17s %-26s %6.2f Gbit/s%s", rep + 1, mode.throughput.label.replace("iperf3 ", ""),
                    path.label(), result.bitsPerSecond() / 1e9, (path.client() == null ? ""
                            : String.format(", client CPU %.2f s/Gbit", run.clientCpuSeconds() / gigabits))
                            + (run.busyRetries() == 0 ? "" : " (server was busy: " + run.busyRetries() + " retries)"));
            return true;
        } catch (IOException | RuntimeException e) {
            String message = "iperf3 " + String.join(" ", command.subList(1, command.size())) + ": " + e.getMessage();
            log("  FAILED %s: %s", path.label(), message);
            if (rep >= 0) {
                results.fail(mode.throughput, path.id(), message);
                if (path.client() != null) {
                    results.fail(mode.cpuPerGbit, path.id(), message);
                }
            }
            return false;
        }
    }

    /**
     * Runs one measurement; a reference path's failure (an {@code ssh -tt -L} connection reset on a
     * busy machine, say) is tried once more, docktunnel's never: only its own rows must be sound.
     */
    private void measure(BenchPath path, BooleanSupplier measurement) {
        if (!measurement.getAsBoolean() && !BenchPath.DOCKTUNNEL.equals(path.id())) {
            log("  reference path %s failed: trying once more", path.label());
            measurement.getAsBoolean();
        }
    }

    /** A successful iperf3 run, the tunnel client's CPU during it, and how often the server was still busy. */
    private record IperfRun(Probes.IperfResult result, double clientCpuSeconds, int busyRetries) {
    }

    /**
     * Runs iperf3, again while the server is still busy with the previous test: the server takes
     * one test at a time and may still be closing the last one (through a tunnel, its end-of-test
     * exchange trails the client's exit). A busy server refuses at once, so the retries cost
     * milliseconds and the CPU counted is that of the run that measured.
     */
    private IperfRun runIperf(BenchPath path, List<String> command, int seconds) throws IOException {
        long deadline = System.nanoTime() + BUSY_RETRY_WINDOW.toNanos();
        int busyRetries = 0;
        while (true) {
            long cpuBefore = path.client() == null ? 0 : ProcStat.cpuTicks(path.client().pid());
            ProcessResult run = testbed.exec(command, Duration.ofSeconds(seconds).plus(IPERF_SLACK));
            long cpuAfter = path.client() == null ? 0 : ProcStat.cpuTicks(path.client().pid());
            if (run.timedOut()) {
                throw new IOException("iperf3 timed out after " + run.elapsed().toSeconds() + " s");
            }
            try {
                Probes.IperfResult result = Probes.parseIperf(run.stdout());
                return new IperfRun(result, (cpuAfter - cpuBefore) / (double) clockTicks, busyRetries);
            } catch (IOException e) {
                // A busy server answers "busy", or closes the control connection at once: with the
                // client's first bytes unread, its close is a reset (direct and through tunnels alike).
                boolean refusedAtOnce = e.getMessage().contains("busy")
                        || ((e.getMessage().contains("control socket has closed")
                                || e.getMessage().contains("Connection reset by peer"))
                            && run.elapsed().toMillis() < 2_000);
                if (!refusedAtOnce || System.nanoTime() > deadline) {
                    throw e;
                }
                busyRetries++;
                Poll.pause();
            }
        }
    }

    private boolean pingPong(BenchPath path, int rep) {
        try {
            long[] nanos = Probes.pingPong(path.host(), path.echoPort(), options.pingPongWarmup(),
                    options.pingPongRoundTrips());
            double p50 = Stats.percentile(nanos, 50) / 1e3;
            double p99 = Stats.percentile(nanos, 99) / 1e3;
            results.add(Measure.PING_PONG_P50, path.id(), p50);
            results.add(Measure.PING_PONG_P99, path.id(), p99);
            results.addRawPerPath("pingPongMicros", path.id(), Stats.microsecondHistogram(nanos));
            log("  rep %d ping-pong %-26s p50 %8.1f µs  p99 %8.1f µs", rep + 1, path.label(), p50, p99);
            return true;
        } catch (IOException | RuntimeException e) {
            log("  FAILED ping-pong %s: %s", path.label(), e);
            results.fail(Measure.PING_PONG_P50, path.id(), e.toString());
            results.fail(Measure.PING_PONG_P99, path.id(), e.toString());
            return false;
        }
    }

    private boolean http(BenchPath path, int rep) {
        try {
            // Warm up once per path, on its first repetition; later ones are warm already.
            int warmup = rep == 0 ? options.httpWarmup() : 0;
            long[] nanos = Probes.httpGets(path.host(), path.httpPort(), warmup, options.httpRequests(),
                    Testbed.HTTPD_INDEX_BODY);
            double p50 = Stats.percentile(nanos, 50) / 1e6;
            double p99 = Stats.percentile(nanos, 99) / 1e6;
            results.add(Measure.HTTP_P50, path.id(), p50);
            results.add(Measure.HTTP_P99, path.id(), p99);
            results.addRawPerPath("httpMicros", path.id(), Stats.microsecondHistogram(nanos));
            log("  rep %d HTTP      %-26s p50 %8.2f ms  p99 %8.2f ms", rep + 1, path.label(), p50, p99);
            return true;
        } catch (IOException | RuntimeException e) {
            log("  FAILED HTTP %s: %s", path.label(), e);
            results.fail(Measure.HTTP_P50, path.id(), e.toString());
            results.fail(Measure.HTTP_P99, path.id(), e.toString());
            return false;
        }
    }

    private void startLatency(DocktunnelProcess docktunnel) {
        log("container start → port accepting: %d containers, one at a time", options.startContainers());
        List<Double> millis = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < options.startContainers() && docktunnel.isAlive(); i++) {
            checkNotStopping();
            try {
                millis.add(StartLatency.measureOne(testbed, "bench-start-" + i, Ports.freeLoopbackPort()));
                results.addRaw("startLatencyMillis", millis.get(millis.size() - 1));
            } catch (IOException | RuntimeException e) {
                failures.add(e.getMessage());
                log("  FAILED container %d: %s", i, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add("interrupted");
                break;
            }
        }
        if (millis.isEmpty()) {
            String why = failures.isEmpty() ? "docktunnel is not running" : failures.get(0);
            results.fail(Measure.START_P50, BenchPath.DOCKTUNNEL, why);
            results.fail(Measure.START_P99, BenchPath.DOCKTUNNEL, why);
            return;
        }
        results.add(Measure.START_P50, BenchPath.DOCKTUNNEL, Stats.percentile(millis, 50));
        results.add(Measure.START_P99, BenchPath.DOCKTUNNEL, Stats.percentile(millis, 99));
        log("  p50 %.1f ms, p99 %.1f ms over %d containers (%d failed)", Stats.percentile(millis, 50),
                Stats.percentile(millis, 99), millis.size(), failures.size());
        if (!failures.isEmpty()) {
            // A partial set still gives numbers; the failures stay visible in the JSON and the table.
            results.fail(Measure.START_P99, BenchPath.DOCKTUNNEL, failures.size() + " of "
                    + options.startContainers() + " containers failed, first: " + failures.get(0));
        }
    }

    /** Path order of repetition {@code rep}: rotated by one each time so no path is always first. */
    static <T> List<T> rotated(List<T> list, int rep) {
        List<T> order = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            order.add(list.get((i + rep) % list.size()));
        }
        return order;
    }

    /** Stops one ssh process we started, by handle: SIGTERM, then SIGKILL. */
    private static void stop(Process process) {
        try {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static void log(String format, Object... args) {
        System.err.println("[bench] " + String.format(format, args));
    }
}
