package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs {@link StreamServer} inside a container's network namespace: the container itself only
 * sleeps and publishes the ports; the server is this JVM's java binary with the test classes,
 * started with {@code nsenter --net=/proc/<container pid>/ns/net} (the filesystem is the host's).
 */
final class ContainerServers {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final Testbed testbed;
    private final List<StreamServerContainer> running = new CopyOnWriteArrayList<>();

    ContainerServers(Testbed testbed) {
        this.testbed = testbed;
    }

    StreamServerContainer start(String containerName, int oweBytes, List<String> extraRunOptions) {
        List<Integer> hostPorts = Figures.freePorts(4);
        int echoHostPort = hostPorts.get(0);
        int oweHostPort = hostPorts.get(1);
        int sourceHostPort = hostPorts.get(2);
        int hangupHostPort = hostPorts.get(3);
        List<String> options = new ArrayList<>(List.of("--name", containerName,
                "-p", echoHostPort + ":" + StreamServerContainer.ECHO_PORT,
                "-p", oweHostPort + ":" + StreamServerContainer.OWE_PORT,
                "-p", sourceHostPort + ":" + StreamServerContainer.SOURCE_PORT,
                "-p", hangupHostPort + ":" + StreamServerContainer.HANGUP_PORT));
        options.addAll(extraRunOptions);
        String id = testbed.runContainer(options, "sleep", "1000000");
        long pid = Long.parseLong(testbed.docker("inspect", "--format", "{{.State.Pid}}", id).trim());
        Path log = testbed.workDir().resolve("stream-server-" + containerName + ".log");
        List<String> command = new ArrayList<>(List.of(testbed.tools().nsenter().toString(),
                "--net=/proc/" + pid + "/ns/net", "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx48m", "-Xss256k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", testClassesDir().toString(), StreamServer.class.getName(),
                Integer.toString(StreamServerContainer.ECHO_PORT), Integer.toString(StreamServerContainer.OWE_PORT),
                Integer.toString(oweBytes), Integer.toString(StreamServerContainer.SOURCE_PORT),
                Integer.toString(StreamServerContainer.HANGUP_PORT)));
        Process process = Processes.startDaemon(command, log);
        testbed.trackClientProcess(process);
        StreamServerContainer server = new StreamServerContainer(id, containerName, echoHostPort, oweHostPort,
                sourceHostPort, hangupHostPort, oweBytes, process);
        running.add(server);
        testbed.awaitCondition("stream server in container " + containerName, READY_TIMEOUT,
                () -> logSaysReady(log), process, log);
        return server;
    }

    /** Kills every server started here (before their containers go). */
    void stopAll() {
        for (StreamServerContainer server : running) {
            server.stopServer();
        }
        running.clear();
    }

    private static boolean logSaysReady(Path log) {
        try {
            return Files.readString(log).lines().anyMatch("ready"::equals);
        } catch (IOException e) {
            return false;
        }
    }

    private static Path testClassesDir() {
        try {
            return Path.of(StreamServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new UncheckedIOException(new IOException("cannot locate the test classes: " + e.getMessage(), e));
        }
    }
}
