package dev.docktunnel.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Proves the testbed: real sshd and dockerd in their own namespace, reachable the ways tests rely on. */
@ExtendWith(TestbedExtension.class)
class TestbedIT {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final Testbed testbed;

    TestbedIT(Testbed testbed) {
        this.testbed = testbed;
    }

    @AfterEach
    void removeContainers() {
        testbed.removeAllContainers();
    }

    @Test
    void sshdAcceptsTheGeneratedKeyWithStrictHostKeyChecking() {
        ProcessResult result = testbed.exec(testbed.sshCommand("echo", "ok"), COMMAND_TIMEOUT).orThrow();
        assertEquals("ok\n", result.stdout());
    }

    @Test
    void sshdOffersAes128Gcm() {
        List<String> command = new ArrayList<>(testbed.sshCommand("echo", "gcm"));
        command.addAll(1, List.of("-c", "aes128-gcm@openssh.com"));
        assertEquals("gcm\n", testbed.exec(command, COMMAND_TIMEOUT).orThrow().stdout());
    }

    @Test
    void aSessionsDockerReachesTheTestbedsDockerd() {
        // sshd_config's SetEnv DOCKER_HOST: what `docker -H ssh://` (dial-stdio) relies on.
        ProcessResult result = testbed.exec(testbed.sshCommand("docker", "info", "--format", "{{.DockerRootDir}}"),
                COMMAND_TIMEOUT).orThrow();
        assertEquals(testbed.workDir().resolve("docker-data") + "\n", result.stdout());
    }

    @Test
    void sshRefusesAChangedHostKey() {
        Path wrongKnownHosts = testbed.writeWrongKnownHosts();
        List<String> command = new ArrayList<>(testbed.sshCommand("echo", "must-not-run"));
        command.replaceAll(arg -> arg.startsWith("UserKnownHostsFile=") ? "UserKnownHostsFile=" + wrongKnownHosts : arg);
        ProcessResult result = testbed.exec(command, COMMAND_TIMEOUT);
        assertFalse(result.ok(), "ssh must refuse a changed host key: " + result);
        assertFalse(result.stdout().contains("must-not-run"));
        assertTrue(result.stderr().contains("Host key verification failed")
                || result.stderr().contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), result.stderr());
    }

    @Test
    void knownHostsFileHoldsTheHostKeyInOpenSshFormat() throws IOException {
        String line = Files.readString(testbed.knownHostsFile()).trim();
        assertEquals(testbed.sshHost() + " " + testbed.hostPublicKeyLine(), line);
        assertTrue(testbed.hostPublicKeyLine().startsWith("ssh-ed25519 AAAA"), testbed.hostPublicKeyLine());
        String wrong = Files.readString(testbed.writeWrongKnownHosts()).trim();
        assertTrue(wrong.startsWith(testbed.sshHost() + " ssh-ed25519 "), wrong);
        assertNotEquals(line, wrong);
    }

    @Test
    void dockerdAnswersOnTheNamespaceSocketWithTheImportedImage() {
        assertTrue(Files.exists(testbed.dockerSocket()));
        assertFalse(testbed.docker("info", "--format", "{{.ServerVersion}}").isBlank());
        assertTrue(testbed.docker("images", "--format", "{{.Repository}}:{{.Tag}}").lines()
                .anyMatch(Testbed.IMAGE::equals));
        assertEquals("hello\n", testbed.docker("run", "--rm", Testbed.IMAGE, "echo", "hello"));
    }

    @Test
    void sshdAndDockerdRunInsideTheNamespaceNotInTheHostNetwork() throws IOException {
        Object namespaceInode = Files.getAttribute(testbed.netnsPath(), "unix:ino");
        String hostNet = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        for (String daemon : List.of("sshd", "containerd", "dockerd")) {
            long pid = Long.parseLong(Files.readString(testbed.workDir().resolve("pids").resolve(daemon)).trim());
            String net = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString();
            assertNotEquals(hostNet, net, daemon + " must not run in the host's network namespace");
            assertEquals("net:[" + namespaceInode + "]", net, daemon + " runs in the testbed namespace");
        }
    }

    @Test
    void httpdContainerIsReachableInsideTheNamespace() {
        testbed.runHttpd("web", 18080);
        assertEquals(Testbed.HTTPD_INDEX_BODY, testbed.httpGetInNamespace(18080, "/"));
        assertTrue(testbed.tcpPortOpenInNamespace("127.0.0.1", 18080));
        assertFalse(testbed.tcpPortOpenInNamespace("127.0.0.1", 18099), "nothing listens on 18099");
    }

    @Test
    void echoServerEchoesOnEveryConnection() throws IOException {
        testbed.runEchoServer("echo", 17000);
        for (int i = 0; i < 3; i++) {
            String payload = "round " + i + "\n";
            assertEquals(payload, roundTrip(testbed.namespaceIp(), 17000, payload));
        }
    }

    /** The reference path for benchmarks: a plain OpenSSH local forward to a container port. */
    @Test
    void sshLocalForwardMakesTheContainerReachableOnHostLoopback() throws Exception {
        testbed.runHttpd("web-forwarded", 18081);
        int localPort = freeLoopbackPort();
        Process forward = testbed.startSshLocalForward(localPort, "127.0.0.1", 18081);
        try {
            HttpClient client = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + localPort + "/"))
                            .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals(Testbed.HTTPD_INDEX_BODY, response.body());
        } finally {
            forward.destroy();
        }
    }

    /** A second, private testbed: after close() nothing of it is left, and close() is idempotent. */
    @Test
    void closeRemovesEverythingOfItsOwnTestbed() throws IOException {
        Testbed own = Testbed.start();
        List<Long> pids = daemonPids(own.workDir());
        String hostVeth = Cleanup.hostVethOf(own.name());
        try {
            own.runEchoServer("echo-own", 17002); // a container, a shim, mounts and docker-proxy to clean
            own.startSshLocalForward(freeLoopbackPort(), "127.0.0.1", 17002);
            assertTrue(Files.exists(Path.of("/sys/class/net", hostVeth)));
        } finally {
            own.close();
        }
        own.close();
        assertAllGone(own.name(), own.workDir(), pids);
    }

    /**
     * Another testbed starting in this JVM reads every marker, ours too. POSIX locks belong to the
     * process and go with the close of any descriptor of the file, so a read of our own marker
     * would free it for any other JVM's cleanup to take, and with it our live testbed.
     */
    @Test
    void aLeftoverSweepInThisJvmKeepsTheLockOnItsOwnLiveTestbed() throws IOException {
        assertTrue(holdsPosixLock(ProcessHandle.current().pid(), markerOf(testbed)), "the marker is locked from the start");

        Cleanup.cleanLeftovers(null, testbed.dockerCli(), System.err); // what Testbed.start() does first

        assertTrue(holdsPosixLock(ProcessHandle.current().pid(), markerOf(testbed)),
                "the sweep must leave this JVM's lock on its own testbed's marker in place");
        assertTrue(Files.exists(testbed.workDir()));
        assertFalse(testbed.docker("info", "--format", "{{.ServerVersion}}").isBlank());
    }

    private static Path markerOf(Testbed testbed) {
        return testbed.workDir().resolve(Cleanup.MARKER_FILE);
    }

    /** Whether /proc/locks lists a POSIX lock of {@code pid} on {@code file} (matched by inode). */
    private static boolean holdsPosixLock(long pid, Path file) throws IOException {
        long inode = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
        // "1: POSIX  ADVISORY  WRITE 4242 fd:01:123456 0 EOF"
        return Files.readAllLines(Path.of("/proc/locks")).stream()
                .map(line -> line.trim().split("\\s+"))
                .anyMatch(f -> f.length >= 6 && f[1].equals("POSIX") && f[4].equals(Long.toString(pid))
                        && f[5].endsWith(":" + inode));
    }

    /** A JVM killed outright leaves its testbed behind; the next run's leftover cleanup removes it. */
    @Test
    void leftoversOfAKilledJvmAreCleanedUp() throws IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessResult probe = testbed.exec(List.of(java, "-cp", classPath, TestbedCrashProbe.class.getName()),
                Duration.ofSeconds(120)).orThrow();
        String name = probe.stdout().lines().filter(l -> l.startsWith("NAME=")).map(l -> l.substring(5))
                .findFirst().orElseThrow(() -> new AssertionError("probe printed no name: " + probe));
        Path workDir = Cleanup.workDirOf(name);
        List<Long> pids = daemonPids(workDir);
        // The probe's start swept leftovers from another JVM: ours is live and must be untouched.
        assertTrue(Files.exists(markerOf(testbed)), "the probe's sweep must leave our live testbed alone");
        assertFalse(testbed.docker("info", "--format", "{{.ServerVersion}}").isBlank());
        // (A concurrent test JVM's start-up may clean it first; either way it must end up gone.)
        if (Files.exists(Cleanup.netnsPathOf(name))) {
            assertTrue(pids.stream().anyMatch(pid -> !Processes.isGone(pid)), "the killed JVM left daemons running");
        }

        Cleanup.cleanLeftovers(testbed.name(), testbed.dockerCli(), System.err);

        assertAllGone(name, workDir, pids);
        assertTrue(testbed.tcpPortOpenFromHost(22), "our own live testbed must survive the leftover cleanup");
    }

    private static void assertAllGone(String name, Path workDir, List<Long> pids) {
        assertFalse(Files.exists(workDir), workDir + " removed");
        assertFalse(Files.exists(Cleanup.netnsPathOf(name)), "netns removed");
        assertFalse(Files.exists(Path.of("/sys/class/net", Cleanup.hostVethOf(name))), "veth removed");
        assertTrue(Cleanup.mountPointsUnder(workDir).isEmpty(), "no mounts left");
        for (long pid : pids) {
            assertTrue(Processes.isGone(pid) || !Processes.commandLine(pid).contains(workDir.toString()),
                    "pid " + pid + " stopped");
        }
    }

    private static List<Long> daemonPids(Path workDir) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (String daemon : Cleanup.DAEMONS) {
            Path pidFile = workDir.resolve("pids").resolve(daemon);
            if (Files.exists(pidFile)) {
                pids.add(Long.parseLong(Files.readString(pidFile).trim()));
            }
        }
        return pids;
    }

    private static String roundTrip(String host, int port, String payload) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(payload.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readNBytes(payload.length()), StandardCharsets.UTF_8);
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void streamServerEchoesSixteenConcurrentClientsAndOwesAfterFin() throws Exception {
        StreamServerContainer server = testbed.runStreamServer("stream-server", 1 << 20);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            List<java.util.concurrent.Future<String>> replies = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String payload = "client " + i + "\n";
                replies.add(threads.submit(() -> roundTrip(testbed.namespaceIp(), server.echoPort(), payload)));
            }
            for (int i = 0; i < 16; i++) {
                assertEquals("client " + i + "\n", replies.get(i).get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
            try (Socket socket = new Socket(testbed.namespaceIp(), server.owePort())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(java.nio.ByteBuffer.allocate(8).putLong(5).array());
                socket.shutdownOutput();
                assertTrue(java.util.Arrays.equals(StreamServer.owed(5, 1 << 20), socket.getInputStream().readAllBytes()));
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void droppedSshPacketsMakeTheLinkSilentUntilHealed() {
        assertTrue(testbed.tcpPortOpenFromHost(testbed.sshPort()));
        try {
            testbed.faults().dropSshPackets();
            assertFalse(testbed.tcpPortOpenFromHost(testbed.sshPort()), "the SSH port must not answer while dropped");
        } finally {
            testbed.faults().healSshLink();
        }
        assertTrue(testbed.tcpPortOpenFromHost(testbed.sshPort()), "the SSH port answers again once healed");
    }
}
