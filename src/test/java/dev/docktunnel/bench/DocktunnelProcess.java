package dev.docktunnel.bench;

import dev.docktunnel.ssh.SshTargetResolver;
import dev.docktunnel.state.HostId;
import dev.docktunnel.state.StateDir;
import dev.docktunnel.testbed.Testbed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shipped fat jar as users launch it, through the launcher {@code bin/docktunnel} (which
 * {@code exec}s {@code java -Xmx64m -Xms8m -XX:+UseSerialGC ... -jar docktunnel.jar run ...}, so the
 * process measured is the JVM itself), against the testbed, in its own process. The environment
 * variable {@value #EXTRA_OPTIONS} adds JVM options through the launcher's {@code JAVA_OPTS}, e.g.
 * a profiler agent.
 */
final class DocktunnelProcess implements AutoCloseable {

    /** The JVM options the launcher passes (DocktunnelProcessTest checks); the RSS targets are judged with them. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx64m", "-Xms8m", "-XX:+UseSerialGC",
            "-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=5000");
    /** The launcher, from the repository's root (where bench/run starts the benchmark). */
    static final Path LAUNCHER = Path.of("bin", "docktunnel");
    /** Extra JVM options for docktunnel, for a profile; unset in the runs whose figures are recorded. */
    static final String EXTRA_OPTIONS = "DOCKTUNNEL_BENCH_JAVA_OPTS";

    private final Process process;
    private final Path log;
    private final Path dockerSocket;
    private final Thread killOnExit;

    private DocktunnelProcess(Process process, Path log, Path dockerSocket) {
        this.process = process;
        this.log = log;
        this.dockerSocket = dockerSocket;
        // Ctrl-C on the benchmark must not leave a docktunnel behind: kill this child, by handle.
        this.killOnExit = new Thread(process::destroyForcibly, "bench-docktunnel-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Starts {@code docktunnel run} against the testbed, with its state and log under {@code dir}. */
    static DocktunnelProcess start(Testbed testbed, Path jar, Path dir) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no fat jar at " + jar.toAbsolutePath()
                    + ": build it first with ./mvnw -B -q package -DskipTests (bench/run does)");
        }
        try {
            Files.createDirectories(dir);
            Path log = dir.resolve("docktunnel.log");
            Path stateDir = dir.resolve("state");
            if (!Files.isExecutable(LAUNCHER)) {
                throw new IllegalStateException("no launcher at " + LAUNCHER.toAbsolutePath()
                        + ": run the benchmark from the repository's root (bench/run does)");
            }
            List<String> command = new java.util.ArrayList<>();
            command.add(LAUNCHER.toAbsolutePath().toString());
            command.addAll(List.of("run",
                    "--host", testbed.sshUri(),
                    "--identity", testbed.clientPrivateKey().toString(),
                    "--known-hosts", testbed.knownHostsFile().toString(),
                    "--ssh-config", "/dev/null", // no user config leaks in
                    "--remote-docker-socket", testbed.dockerSocket().toString(),
                    "--state-dir", stateDir.toString()));
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put("DOCKTUNNEL_JAR", jar.toAbsolutePath().toString());
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            String extra = System.getenv(EXTRA_OPTIONS);
            if (extra == null || extra.isBlank()) {
                builder.environment().remove("JAVA_OPTS");
            } else {
                builder.environment().put("JAVA_OPTS", extra);
            }
            Process process = builder
                    .directory(dir.toFile()) // no conf/docktunnel.json here
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            return new DocktunnelProcess(process, log, dockerSocketIn(stateDir, testbed));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start docktunnel: " + e.getMessage(), e);
        }
    }

    /**
     * Where docktunnel listens for the docker CLI (issue 9): {@code <state-dir>/<host-id>/docker.sock},
     * the host id derived from {@code --host} as {@code run} does (with {@code --ssh-config /dev/null}).
     */
    Path dockerSocket() {
        return dockerSocket;
    }

    private static Path dockerSocketIn(Path stateDir, Testbed testbed) {
        HostId id = HostId.of(SshTargetResolver.resolve(testbed.sshUri(), Path.of("/dev/null")));
        return StateDir.dockerSocketIn(stateDir.toAbsolutePath(), id);
    }

    long pid() {
        return process.pid();
    }

    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Waits for "ready" in its output; fails at once when it exits, or at the deadline. */
    void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!output().contains("ready")) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docktunnel exited with " + process.exitValue() + ":\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("docktunnel not ready after " + timeout.toSeconds() + " s:\n" + tail());
            }
            Poll.pause();
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines of its output, for error messages. */
    String tail() {
        List<String> lines = output().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /** Copies its output to {@code target} (best effort: the run's results matter more). */
    void keepLog(Path target) {
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.copy(log, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Benchmark.log("could not keep docktunnel's log at %s: %s", target, e.getMessage());
        }
    }

    /** SIGTERM (docktunnel stops cleanly), then SIGKILL after 20 s. */
    @Override
    public void close() {
        try {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException ignored) {
                // the JVM is shutting down: the hook runs anyway
            }
        }
    }
}
