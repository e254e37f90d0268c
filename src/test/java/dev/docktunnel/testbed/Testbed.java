package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A disposable "remote Docker host" for integration tests: a network namespace reachable from
 * the host over a veth pair, with a real OpenSSH sshd and a real dockerd (with its own
 * containerd) inside it, and a tiny busybox image ({@value #IMAGE}) imported into that dockerd.
 *
 * <p>The namespace shares the host's filesystem (only the network is separate), so the dockerd
 * socket path {@link #dockerSocket()} is valid on both sides: it is what docktunnel is told as
 * its remote Docker socket, while the tests' own {@link #docker(String...)} calls use it directly.
 *
 * <p>Use one per test JVM through {@link TestbedExtension}. {@link #close()} removes everything
 * (processes, mounts, veth, namespace, work dir); a JVM shutdown hook calls it too, and a later
 * run removes the leftovers of a JVM that was killed outright.
 */
public final class Testbed implements AutoCloseable {

    /** The image imported from busybox-static: every busybox applet in /bin, and /www/index.html. */
    public static final String IMAGE = "dt-busybox:latest";
    /** The body of /www/index.html inside {@link #IMAGE}, served by {@link #runHttpd(String, int)}. */
    public static final String HTTPD_INDEX_BODY = "docktunnel testbed httpd ok\n";
    /** Container port of {@link #runHttpd(String, int)}. */
    public static final int HTTPD_CONTAINER_PORT = 80;
    /** Container port of {@link #runEchoServer(String, int)}. */
    public static final int ECHO_CONTAINER_PORT = 7000;

    private static final String SSH_USER = "root";
    private static final int SSH_PORT = 22;
    private static final Duration DAEMON_READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DOCKER_TIMEOUT = Duration.ofSeconds(60);
    private static final String NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Prerequisites.Tools tools;
    private final String name;
    private final Path workDir;
    private final String hostIp;
    private final String namespaceIp;
    private final String bridgeCidr;
    private final Thread shutdownHook;

    private final Object lifecycleLock = new Object();
    private final Map<String, Process> daemons = new LinkedHashMap<>();
    private final List<Process> clientProcesses = new CopyOnWriteArrayList<>();
    private boolean closed;

    private volatile String storageDriver;
    private volatile String hostPublicKeyLine;
    private volatile Duration startupTime = Duration.ZERO;

    private final Faults faults = new Faults(this);
    private final ContainerServers containerServers = new ContainerServers(this);

    private Testbed(Prerequisites.Tools tools, String name, int octet2, int octet3) {
        this.tools = tools;
        this.name = name;
        this.workDir = Cleanup.workDirOf(name);
        this.hostIp = "10." + octet2 + "." + octet3 + ".1";
        this.namespaceIp = "10." + octet2 + "." + octet3 + ".2";
        this.bridgeCidr = "10." + octet2 + "." + (octet3 + 1) + ".1/24";
        this.shutdownHook = new Thread(this::closeFromShutdownHook, "testbed-teardown-" + name);
    }

    /**
     * Checks prerequisites, removes leftovers of crashed runs, and brings up a new testbed.
     * Whatever was created is removed again when this fails.
     *
     * @throws TestbedException naming what is missing or what failed, with the relevant log tail
     */
    public static Testbed start() {
        long startNanos = System.nanoTime();
        Prerequisites.Tools tools = Prerequisites.check();
        Cleanup.cleanLeftovers(null, tools.dockerCli(), System.err);
        Testbed testbed = allocate(tools);
        try {
            testbed.bringUp();
        } catch (TestbedException | Error e) {
            testbed.close();
            throw e;
        } catch (RuntimeException e) {
            testbed.close();
            throw new TestbedException("testbed " + testbed.name + " failed to start: " + e, e);
        }
        testbed.startupTime = Duration.ofNanos(System.nanoTime() - startNanos);
        log("%s up in %d ms: ssh %s@%s:%d, docker %s, storage driver %s, bridge %s", testbed.name,
                testbed.startupTime.toMillis(), SSH_USER, testbed.namespaceIp, SSH_PORT, testbed.dockerHost(),
                testbed.storageDriver, testbed.bridgeCidr);
        return testbed;
    }

    // ---------------------------------------------------------------- identity and addresses

    /** The unique name of this run: the netns name and the work dir's name ({@code dt-xxxxxx}). */
    public String name() {
        return name;
    }

    /** The work dir holding keys, configs, logs, daemon state and the docker socket. */
    public Path workDir() {
        return workDir;
    }

    /** The namespace's bind-mount, for {@code nsenter --net=...}. */
    public Path netnsPath() {
        return Cleanup.netnsPathOf(name);
    }

    /** The host's end of the veth pair (a /30 shared with {@link #namespaceIp()}). */
    public String hostSideIp() {
        return hostIp;
    }

    /** The namespace's end of the veth pair: the "remote host" address. */
    public String namespaceIp() {
        return namespaceIp;
    }

    /** The docker0 bridge address inside the namespace (dockerd {@code --bip}). */
    public String bridgeCidr() {
        return bridgeCidr;
    }

    /** How long {@link #start()} took, prerequisites and leftover cleanup included. */
    public Duration startupTime() {
        return startupTime;
    }

    // ---------------------------------------------------------------- SSH

    /** The SSH server's address (same as {@link #namespaceIp()}). */
    public String sshHost() {
        return namespaceIp;
    }

    public int sshPort() {
        return SSH_PORT;
    }

    public String sshUser() {
        return SSH_USER;
    }

    /** {@code root@<namespace ip>}, for the ssh command line. */
    public String sshDestination() {
        return SSH_USER + "@" + namespaceIp;
    }

    /** {@code ssh://root@<namespace ip>:22}, the form docktunnel's {@code --host} takes. */
    public String sshUri() {
        return "ssh://" + SSH_USER + "@" + namespaceIp + ":" + SSH_PORT;
    }

    /** The client's ed25519 private key (no passphrase), authorized for root. */
    public Path clientPrivateKey() {
        return workDir.resolve("client_ed25519");
    }

    public Path clientPublicKey() {
        return workDir.resolve("client_ed25519.pub");
    }

    /** An OpenSSH known_hosts file with exactly the sshd's host key for {@link #sshHost()}. */
    public Path knownHostsFile() {
        return workDir.resolve("known_hosts");
    }

    /** The sshd's host public key as {@code ssh-ed25519 AAAA...} (type and base64, no comment). */
    public String hostPublicKeyLine() {
        return hostPublicKeyLine;
    }

    /**
     * Writes a known_hosts file that lists a DIFFERENT (freshly generated) ed25519 key for
     * {@link #sshHost()}, for "changed host key is refused" tests. Each call makes a new key.
     */
    public Path writeWrongKnownHosts() {
        try {
            Path dir = Files.createTempDirectory(workDir, "wrong-hostkey-");
            Path key = dir.resolve("wrong_host_ed25519");
            exec(List.of(tools.sshKeygen().toString(), "-q", "-t", "ed25519", "-N", "", "-C", "wrong-host-key", "-f",
                    key.toString()), Duration.ofSeconds(20)).orThrow();
            Path knownHosts = dir.resolve("known_hosts");
            Files.writeString(knownHosts, namespaceIp + " " + keyTypeAndBase64(key.resolveSibling(
                    key.getFileName() + ".pub")) + "\n");
            return knownHosts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Options for the OpenSSH client that authenticate with the generated key and verify the host
     * strictly against {@link #knownHostsFile()}; never reads the user's own ssh config or agent.
     */
    public List<String> sshClientOptions() {
        return List.of("-F", "/dev/null",
                "-i", clientPrivateKey().toString(),
                "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none",
                "-o", "UserKnownHostsFile=" + knownHostsFile(),
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10",
                "-o", "LogLevel=ERROR",
                "-p", Integer.toString(SSH_PORT));
    }

    /** A complete {@code ssh ... root@ip <remoteCommand...>} command line. */
    public List<String> sshCommand(String... remoteCommand) {
        List<String> command = new ArrayList<>();
        command.add(tools.ssh().toString());
        command.addAll(sshClientOptions());
        command.add(sshDestination());
        command.addAll(List.of(remoteCommand));
        return command;
    }

    /**
     * Starts {@code ssh -N -L 127.0.0.1:localPort:remoteHost:remotePort} through the namespace's
     * sshd (the reference path benchmarks compare docktunnel with) and waits until the local port
     * accepts connections. The caller may destroy the process; {@link #close()} kills it anyway.
     */
    public Process startSshLocalForward(int localPort, String remoteHost, int remotePort) {
        return startSshLocalForwards(List.of(new LocalForward(localPort, remoteHost, remotePort)), List.of(),
                List.of());
    }

    /** One {@code -L 127.0.0.1:localPort:remoteHost:remotePort} of {@link #startSshLocalForwards}. */
    public record LocalForward(int localPort, String remoteHost, int remotePort) {
        String spec() {
            return "127.0.0.1:" + localPort + ":" + remoteHost + ":" + remotePort;
        }
    }

    /**
     * Like {@link #startSshLocalForward(int, String, int)} with several forwards in one SSH
     * session, {@code extraOptions} placed before the destination (e.g. {@code -c
     * aes128-gcm@openssh.com}, {@code -tt}), and an optional remote command. Without a command
     * it is {@code ssh -N} with stdin from /dev/null; with one (e.g. {@code sleep 1000000} for a
     * PTY session under {@code -tt}) there is no {@code -N} and stdin is a pipe that stays open
     * while the returned {@link Process} is referenced, so the session does not see EOF. Waits
     * until every local port listens. The caller may destroy the process; {@link #close()} kills
     * it anyway.
     */
    public Process startSshLocalForwards(List<LocalForward> forwards, List<String> extraOptions,
                                         List<String> remoteCommand) {
        if (forwards.isEmpty()) {
            throw new IllegalArgumentException("no forwards given");
        }
        List<String> command = new ArrayList<>();
        command.add(tools.ssh().toString());
        command.addAll(sshClientOptions());
        if (remoteCommand.isEmpty()) {
            command.add("-N");
        }
        command.addAll(List.of("-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=10"));
        for (LocalForward forward : forwards) {
            command.addAll(List.of("-L", forward.spec()));
        }
        command.addAll(extraOptions);
        command.add(sshDestination());
        command.addAll(remoteCommand);
        Path log = workDir.resolve("ssh-forward-" + forwards.get(0).localPort() + ".log");
        Process process;
        if (remoteCommand.isEmpty()) {
            process = Processes.startDaemon(command, log);
        } else {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().put("PATH", Processes.SYSTEM_PATH);
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new TestbedException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
            }
        }
        clientProcesses.add(process);
        // Watch for the listeners rather than connecting: a probe connection would open a stray
        // forwarded connection to the target (and count in any benchmark).
        for (LocalForward forward : forwards) {
            awaitCondition("ssh -L on 127.0.0.1:" + forward.localPort(), Duration.ofSeconds(15),
                    () -> listeningOnHostLoopback(forward.localPort()), process, log);
        }
        return process;
    }

    // ---------------------------------------------------------------- Docker

    /** The namespace dockerd's API socket; pass it to docktunnel as {@code --remote-docker-socket}. */
    public Path dockerSocket() {
        return workDir.resolve("docker.sock");
    }

    /** {@code unix://<dockerSocket>}. */
    public String dockerHost() {
        return "unix://" + dockerSocket();
    }

    /** The docker CLI used by {@link #docker(String...)} (docker.io's /usr/bin/docker when present). */
    public Path dockerCli() {
        return tools.dockerCli();
    }

    /** "overlay2", or "vfs" when overlay2 does not work on this filesystem. */
    public String storageDriver() {
        return storageDriver;
    }

    /** Runs the docker CLI against the namespace dockerd; returns stdout, throws with stderr on failure. */
    public String docker(String... args) {
        return dockerResult(args).orThrow().stdout();
    }

    /** Like {@link #docker(String...)} but returns the result whatever the exit code. */
    public ProcessResult dockerResult(String... args) {
        List<String> command = new ArrayList<>(List.of(tools.dockerCli().toString(), "-H", dockerHost()));
        command.addAll(List.of(args));
        return Processes.run(command, DOCKER_TIMEOUT, Cleanup.dockerEnv(workDir), null);
    }

    /**
     * {@code docker run -d <runOptions> dt-busybox:latest <command>}; returns the container id.
     * Example: {@code runContainer(List.of("--name", "web", "-p", "18080:80"), "httpd", "-f", "-p", "80", "-h", "/www")}.
     */
    public String runContainer(List<String> runOptions, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "-d"));
        args.addAll(runOptions);
        args.add(IMAGE);
        args.addAll(List.of(command));
        return docker(args.toArray(String[]::new)).trim();
    }

    /**
     * Runs busybox httpd serving {@link #HTTPD_INDEX_BODY}, published on {@code hostPort} of the
     * namespace (all addresses), and waits until it answers HTTP inside the namespace.
     */
    public String runHttpd(String containerName, int hostPort) {
        String id = runContainer(List.of("--name", containerName, "-p", hostPort + ":" + HTTPD_CONTAINER_PORT),
                "httpd", "-f", "-p", Integer.toString(HTTPD_CONTAINER_PORT), "-h", "/www");
        AtomicReference<ProcessResult> lastTry = new AtomicReference<>();
        try {
            awaitCondition("httpd container " + containerName + " on port " + hostPort, Duration.ofSeconds(20),
                    () -> {
                        lastTry.set(nsExec(Duration.ofSeconds(5), "/bin/busybox", "wget", "-q", "-O", "-",
                                "http://127.0.0.1:" + hostPort + "/"));
                        return lastTry.get().stdout().equals(HTTPD_INDEX_BODY);
                    }, null, null);
        } catch (TestbedException e) {
            throw new TestbedException(e.getMessage() + "; last try: " + lastTry.get()
                    + "; container logs: " + dockerResult("logs", id), e);
        }
        return id;
    }

    /**
     * Runs a TCP echo server ({@code nc -ll -p 7000 -e /bin/cat}: one cat per connection, many
     * connections) published on {@code hostPort}, and waits until it echoes.
     */
    public String runEchoServer(String containerName, int hostPort) {
        String id = runContainer(List.of("--name", containerName, "-p", hostPort + ":" + ECHO_CONTAINER_PORT),
                "nc", "-ll", "-p", Integer.toString(ECHO_CONTAINER_PORT), "-e", "/bin/cat");
        // docker-proxy accepts before nc listens, so only a real echo proves readiness.
        awaitCondition("echo container " + containerName + " on port " + hostPort, Duration.ofSeconds(20),
                () -> echoesFromHost(hostPort), null, null);
        return id;
    }

    /**
     * Runs a container that publishes four ports on free host ports (see
     * {@link StreamServerContainer}), with a {@link StreamServer} (real backlog, thread per
     * connection) in its network namespace, and waits until the server listens. The owe port
     * sends {@code oweBytes} after the request's EOF. {@link #removeAllContainers()} stops the server.
     */
    public StreamServerContainer runStreamServer(String containerName, int oweBytes) {
        return containerServers.start(containerName, oweBytes, List.of());
    }

    /**
     * The published TCP ports of the running containers as {@code docker ps} lists them, one
     * entry per container and host port (the IPv4 and IPv6 bindings of a port count once).
     */
    public Set<PublishedTcpPort> publishedTcpPorts() {
        Set<PublishedTcpPort> ports = new TreeSet<>();
        Pattern binding = Pattern.compile(":(\\d+)->\\d+/tcp");
        for (String line : docker("ps", "--no-trunc", "--format", "{{.ID}}\t{{.Ports}}").lines().toList()) {
            String[] fields = line.split("\t", 2);
            if (fields.length < 2) {
                continue;
            }
            Matcher m = binding.matcher(fields[1]);
            while (m.find()) {
                ports.add(new PublishedTcpPort(fields[0], Integer.parseInt(m.group(1))));
            }
        }
        return ports;
    }

    /** One published TCP port of a running container. */
    public record PublishedTcpPort(String containerId, int hostPort) implements Comparable<PublishedTcpPort> {
        @Override
        public int compareTo(PublishedTcpPort o) {
            int byId = containerId.compareTo(o.containerId);
            return byId != 0 ? byId : Integer.compare(hostPort, o.hostPort);
        }
    }

    /** Force-removes every container (running or not) and its anonymous volumes, and stops their stream servers. */
    public void removeAllContainers() {
        containerServers.stopAll();
        Cleanup.removeAllContainers(tools.dockerCli(), dockerSocket());
    }

    /** The fault tools: sshd, SSH connection, dockerd and link faults. */
    public Faults faults() {
        return faults;
    }

    // ---------------------------------------------------------------- commands and probes

    /** Runs a command on the host (PATH = Debian system dirs); never throws for a non-zero exit. */
    public ProcessResult exec(List<String> command, Duration timeout) {
        return Processes.run(command, timeout, Map.of(), null);
    }

    /** Like {@link #exec(List, Duration)} with {@code stdin} fed to the command. */
    public ProcessResult exec(List<String> command, Duration timeout, byte[] stdin) {
        return Processes.run(command, timeout, Map.of(), stdin);
    }

    /** Runs a command inside the namespace's network (nsenter --net; same filesystem). */
    public ProcessResult nsExec(List<String> command, Duration timeout) {
        return exec(inNamespace(command), timeout);
    }

    /** Varargs form of {@link #nsExec(List, Duration)}. */
    public ProcessResult nsExec(Duration timeout, String... command) {
        return nsExec(List.of(command), timeout);
    }

    /** Whether {@code host:port}, as seen from INSIDE the namespace, accepts a TCP connection. */
    public boolean tcpPortOpenInNamespace(String host, int port) {
        // bash's /dev/tcp connects from within nsenter's process; exit 0 = connected.
        return nsExec(Duration.ofSeconds(5), tools.bash().toString(), "-c", "exec 3<>/dev/tcp/\"$0\"/\"$1\"",
                host, Integer.toString(port)).ok();
    }

    /** Polls {@link #tcpPortOpenInNamespace(String, int)} until true; throws after {@code timeout}. */
    public void awaitTcpPortInNamespace(String host, int port, Duration timeout) {
        awaitCondition(host + ":" + port + " inside " + name, timeout, () -> tcpPortOpenInNamespace(host, port),
                null, null);
    }

    /** Whether the namespace address {@link #namespaceIp()} accepts a TCP connection on {@code port} from the host. */
    public boolean tcpPortOpenFromHost(int port) {
        return tcpPortAccepts(namespaceIp, port);
    }

    /**
     * GET {@code http://127.0.0.1:port<path>} from inside the namespace (busybox wget); throws on
     * failure. (No wget -T: busybox-static 1.35's wget segfaults with it; the process timeout bounds it.)
     */
    public String httpGetInNamespace(int port, String path) {
        return nsExec(Duration.ofSeconds(10), "/bin/busybox", "wget", "-q", "-O", "-",
                "http://127.0.0.1:" + port + path).orThrow().stdout();
    }

    // ---------------------------------------------------------------- teardown

    /** Removes everything this testbed created. Idempotent; safe from any thread. */
    @Override
    public void close() {
        synchronized (lifecycleLock) {
            if (closed) {
                return;
            }
            closed = true; // from here on no daemon can be launched
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | SecurityException ignored) {
            // already shutting down: we are (or run alongside) the hook
        }
        tearDown();
    }

    private void closeFromShutdownHook() {
        synchronized (lifecycleLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        log("JVM shutting down: tearing down %s", name);
        tearDown();
    }

    private void tearDown() {
        long startNanos = System.nanoTime();
        for (Process client : clientProcesses) {
            Processes.killTree(client.toHandle());
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        synchronized (lifecycleLock) {
            daemons.forEach((daemon, process) -> pids.put(daemon, process.pid()));
        }
        List<String> problems = Cleanup.tearDown(name, tools.dockerCli(), pids);
        Cleanup.releaseMarker(name);
        long ms = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
        if (problems.isEmpty()) {
            log("%s torn down in %d ms", name, ms);
        } else {
            log("%s torn down in %d ms WITH PROBLEMS:%n  %s", name, ms, String.join("\n  ", problems));
        }
    }

    // ---------------------------------------------------------------- bring-up

    private static Testbed allocate(Prerequisites.Tools tools) {
        for (int attempt = 0; attempt < 50; attempt++) {
            StringBuilder suffix = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                suffix.append(NAME_ALPHABET.charAt(RANDOM.nextInt(NAME_ALPHABET.length())));
            }
            String name = "dt-" + suffix;
            if (Files.exists(Cleanup.netnsPathOf(name))
                    || Files.exists(Path.of("/sys/class/net", Cleanup.hostVethOf(name)))) {
                continue;
            }
            try {
                // createDirectory is atomic: two JVMs can never claim the same name.
                Files.createDirectory(Cleanup.workDirOf(name),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            } catch (FileAlreadyExistsException e) {
                continue;
            } catch (IOException e) {
                throw new TestbedException("cannot create " + Cleanup.workDirOf(name) + ": " + e.getMessage(), e);
            }
            int[] octets = pickSubnet(tools);
            Testbed testbed = new Testbed(tools, name, octets[0], octets[1]);
            // Hook first, marker second: from now on every exit path removes what follows.
            Runtime.getRuntime().addShutdownHook(testbed.shutdownHook);
            try {
                Cleanup.writeMarker(name);
            } catch (IOException e) {
                testbed.close();
                throw new TestbedException("cannot write marker in " + testbed.workDir + ": " + e.getMessage(), e);
            }
            return testbed;
        }
        throw new TestbedException("could not find a free testbed name after 50 attempts");
    }

    /**
     * Picks 10.A.B.0/23 (A in 200..249, B even): the veth /30 is 10.A.B.0/30 and the docker
     * bridge is 10.A.(B+1).0/24. Rejects candidates that overlap any address or route on the host
     * at least as specific as /23 (e.g. another testbed's veth); broader routes like 10.0.0.0/8
     * are fine because our /30 is more specific.
     */
    private static int[] pickSubnet(Prerequisites.Tools tools) {
        String inUse = Processes.run(List.of(tools.ip().toString(), "-4", "-o", "addr", "show"),
                Duration.ofSeconds(10), Map.of(), null).stdout()
                + Processes.run(List.of(tools.ip().toString(), "-4", "route", "show", "table", "all"),
                Duration.ofSeconds(10), Map.of(), null).stdout();
        List<long[]> prefixes = new ArrayList<>();
        Matcher m = Pattern.compile("\\b(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)(?:/(\\d+))?\\b").matcher(inUse);
        while (m.find()) {
            long address = (Long.parseLong(m.group(1)) << 24) | (Long.parseLong(m.group(2)) << 16)
                    | (Long.parseLong(m.group(3)) << 8) | Long.parseLong(m.group(4));
            int length = m.group(5) == null ? 32 : Integer.parseInt(m.group(5));
            prefixes.add(new long[] {address, length});
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int a = 200 + RANDOM.nextInt(50);
            int b = 2 * RANDOM.nextInt(127);
            long base = (10L << 24) | ((long) a << 16) | ((long) b << 8);
            boolean clash = prefixes.stream().anyMatch(p -> p[1] >= 23 && (p[0] >> 9) == (base >> 9));
            if (!clash) {
                return new int[] {a, b};
            }
        }
        throw new TestbedException("no free 10.x /23 for the testbed network");
    }

    private void bringUp() {
        createNetwork();
        writeSshKeys();
        Path sshdConfig = writeSshdConfig(List.of());
        launch("sshd", sshdCommand(sshdConfig));
        Path containerdConfig = writeContainerdConfig();
        launch("containerd", List.of(tools.containerd().toString(), "--config", containerdConfig.toString()));
        Path imageTar = buildImageTar(); // CPU work while containerd starts
        Path containerdSocket = workDir.resolve("containerd/containerd.sock");
        // dockerd's first dial of a missing socket costs a second of gRPC backoff: wait for it.
        awaitContainerd(containerdSocket);
        startDockerd(containerdSocket);
        awaitCondition("sshd on " + namespaceIp + ":" + SSH_PORT, DAEMON_READY_TIMEOUT, this::sshdSendsBanner,
                daemon("sshd"), workDir.resolve("sshd.log"));
        docker("import", "--change", "CMD [\"/bin/sh\"]", imageTar.toString(), IMAGE);
        try {
            Files.delete(imageTar); // dockerd has its own copy now
        } catch (IOException ignored) {
            // teardown removes it with the work dir
        }
    }

    private void createNetwork() {
        String hostVeth = Cleanup.hostVethOf(name);
        String nsVeth = Cleanup.nsVethOf(name);
        String ip = tools.ip().toString();
        exec(List.of(ip, "netns", "add", name), Duration.ofSeconds(10)).orThrow();
        exec(List.of(ip, "link", "add", hostVeth, "type", "veth", "peer", "name", nsVeth, "netns", name),
                Duration.ofSeconds(10)).orThrow();
        exec(List.of(ip, "-batch", "-"), Duration.ofSeconds(10),
                ("addr add " + hostIp + "/30 dev " + hostVeth + "\nlink set " + hostVeth + " up\n")
                        .getBytes(StandardCharsets.UTF_8)).orThrow();
        exec(inNamespace(List.of(ip, "-batch", "-")), Duration.ofSeconds(10),
                ("link set lo up\naddr add " + namespaceIp + "/30 dev " + nsVeth + "\nlink set " + nsVeth + " up\n")
                        .getBytes(StandardCharsets.UTF_8)).orThrow();
    }

    private void writeSshKeys() {
        try {
            String keygen = tools.sshKeygen().toString();
            Path hostKey = workDir.resolve("ssh_host_ed25519_key");
            exec(List.of(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "docktunnel-testbed-host", "-f",
                    hostKey.toString()), Duration.ofSeconds(20)).orThrow();
            exec(List.of(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "docktunnel-testbed-client", "-f",
                    clientPrivateKey().toString()), Duration.ofSeconds(20)).orThrow();
            Files.copy(clientPublicKey(), workDir.resolve("authorized_keys"), StandardCopyOption.REPLACE_EXISTING);
            hostPublicKeyLine = keyTypeAndBase64(workDir.resolve("ssh_host_ed25519_key.pub"));
            // Port 22 is written without brackets, as OpenSSH does.
            Files.writeString(knownHostsFile(), namespaceIp + " " + hostPublicKeyLine + "\n");
            // sshd refuses to start without its privilege separation dir.
            Files.createDirectories(Path.of("/run/sshd"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes (or rewrites) the sshd_config, with {@code extraOptions} (whole config lines such as
     * {@code RekeyLimit 1M}) at the end, and checks it with {@code sshd -t}.
     */
    Path writeSshdConfig(List<String> extraOptions) {
        Path hostKey = workDir.resolve("ssh_host_ed25519_key");
        try {
            List<String> lines = new ArrayList<>(List.of(
                    "# docktunnel testbed sshd (" + name + ")",
                    "ListenAddress " + namespaceIp + ":" + SSH_PORT,
                    "HostKey " + hostKey,
                    "PidFile " + workDir.resolve("sshd.pid"),
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "AuthorizedKeysFile " + workDir.resolve("authorized_keys"),
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "StrictModes no",
                    "UsePAM no",
                    "AllowTcpForwarding yes",
                    "AllowStreamLocalForwarding yes",
                    "AllowAgentForwarding no",
                    "X11Forwarding no",
                    "PrintMotd no",
                    "UseDNS no",
                    // Room for many concurrent connections in tests and benchmarks.
                    "MaxStartups 100:30:200",
                    "MaxSessions 100",
                    "Subsystem sftp internal-sftp",
                    // Sessions' commands reach THIS testbed's dockerd (not /var/run/docker.sock), with
                    // the testbed's CLI config: `docker -H ssh://` runs `docker system dial-stdio` here.
                    "SetEnv DOCKER_HOST=" + dockerHost() + " DOCKER_CONFIG=" + workDir.resolve("docker-cli-config")
                    // No Ciphers line: OpenSSH's default list, which includes aes128-gcm@openssh.com.
                    ));
            lines.addAll(extraOptions);
            Path file = workDir.resolve("sshd_config");
            Files.writeString(file, String.join("\n", lines) + "\n");
            exec(List.of(tools.sshd().toString(), "-t", "-f", file.toString()), Duration.ofSeconds(10)).orThrow();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path writeContainerdConfig() {
        Path dir = workDir.resolve("containerd");
        String config = String.join("\n",
                "version = 2",
                "root = \"" + dir.resolve("root") + "\"",
                "state = \"" + dir.resolve("state") + "\"",
                "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]",
                "[grpc]",
                "  address = \"" + dir.resolve("containerd.sock") + "\"",
                "[debug]",
                "  level = \"warn\"",
                "[plugins.\"io.containerd.internal.v1.opt\"]",
                "  path = \"" + dir.resolve("opt") + "\"",
                "");
        try {
            Files.createDirectories(dir);
            Path file = workDir.resolve("containerd.toml");
            Files.writeString(file, config);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts dockerd with overlay2, falling back to vfs when overlay2 does not work on this
     * filesystem (e.g. /tmp itself on overlayfs).
     */
    private void startDockerd(Path containerdSocket) {
        try {
            // Its own daemon.json: nothing from /etc/docker, and the trust key in the work dir.
            Files.writeString(workDir.resolve("daemon.json"),
                    "{\"deprecated-key-path\": \"" + workDir.resolve("docker-key.json") + "\"}\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            launchDockerd(containerdSocket, "overlay2");
        } catch (TestbedException overlayFailure) {
            Process dockerd = daemon("dockerd");
            String logTail = tail(workDir.resolve("dockerd.log"));
            boolean overlayProblem = !dockerd.isAlive() && (logTail.contains("overlay") || logTail.contains(
                    "graphdriver") || logTail.contains("storage-driver"));
            if (!overlayProblem) {
                throw overlayFailure;
            }
            log("overlay2 does not work here, retrying dockerd with vfs: %s", lastLine(logTail));
            try {
                Cleanup.deleteTree(workDir.resolve("docker-data"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            launchDockerd(containerdSocket, "vfs");
        }
        storageDriver = docker("info", "--format", "{{.Driver}}").trim();
    }

    private void launchDockerd(Path containerdSocket, String storage) {
        Path log = workDir.resolve("dockerd.log");
        launch("dockerd", List.of(tools.dockerd().toString(),
                "--config-file", workDir.resolve("daemon.json").toString(),
                "--containerd", containerdSocket.toString(),
                "--data-root", workDir.resolve("docker-data").toString(),
                "--exec-root", workDir.resolve("docker-exec").toString(),
                "--pidfile", workDir.resolve("dockerd.pid").toString(),
                "-H", dockerHost(),
                "--bip", bridgeCidr,
                "--storage-driver", storage,
                // Published ports by iptables DNAT (also for the namespace's loopback), not by a
                // docker-proxy process per port: no extra copy and CPU in every measured path, and
                // a port only accepts once the container's process listens.
                "--userland-proxy=false",
                // Containers get a few seconds to stop when dockerd shuts down, not the default 15.
                "--shutdown-timeout", "3"));
        awaitCondition("dockerd (" + storage + ") answering on " + dockerSocket(), DAEMON_READY_TIMEOUT,
                () -> Files.exists(dockerSocket()) && dockerResult("info", "--format", "{{.ID}}").ok(),
                daemon("dockerd"), log);
    }

    /** Starts a daemon inside the namespace, in its own session so a terminal's Ctrl-C reaches only the JVM. */
    private void launch(String daemon, List<String> command) {
        List<String> full = new ArrayList<>();
        full.add(tools.setsid().toString());
        full.addAll(inNamespace(command));
        synchronized (lifecycleLock) {
            if (closed) {
                throw new TestbedException("testbed " + name + " is closed; not starting " + daemon);
            }
            // setsid and nsenter both exec, so the PID we get is the daemon's own.
            Process process = Processes.startDaemon(full, workDir.resolve(daemon + ".log"));
            daemons.put(daemon, process);
            try {
                Cleanup.recordPid(name, daemon, process.pid());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The running process of {@code daemon} ("sshd", "containerd", "dockerd"), or null. */
    Process daemon(String daemon) {
        synchronized (lifecycleLock) {
            return daemons.get(daemon);
        }
    }

    List<String> inNamespace(List<String> command) {
        List<String> full = new ArrayList<>(List.of(tools.nsenter().toString(), "--net=" + netnsPath(), "--"));
        full.addAll(command);
        return full;
    }

    /** A rootfs with static busybox and all its applets as symlinks, tarred for {@code docker import}. */
    private Path buildImageTar() {
        Path rootfs = workDir.resolve("image-rootfs");
        try {
            for (String dir : List.of("bin", "etc", "www", "tmp", "root", "proc", "sys", "dev")) {
                Files.createDirectories(rootfs.resolve(dir));
            }
            Files.setPosixFilePermissions(rootfs.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
            Path busybox = rootfs.resolve("bin/busybox");
            Files.copy(tools.busybox(), busybox, StandardCopyOption.COPY_ATTRIBUTES);
            String applets = exec(List.of(tools.busybox().toString(), "--list"), Duration.ofSeconds(10))
                    .orThrow().stdout();
            for (String applet : applets.lines().map(String::trim).toList()) {
                if (!applet.isEmpty() && !applet.equals("busybox") && !applet.contains("/")) {
                    Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
                }
            }
            Files.writeString(rootfs.resolve("etc/passwd"),
                    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
            Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
            Files.writeString(rootfs.resolve("www/index.html"), HTTPD_INDEX_BODY);
            Path tar = workDir.resolve("image-rootfs.tar");
            exec(List.of(tools.tar().toString(), "--owner=0", "--group=0", "--numeric-owner", "-C",
                    rootfs.toString(), "-cf", tar.toString(), "."), Duration.ofSeconds(30)).orThrow();
            return tar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- restarts (for Faults)

    /**
     * sshd in a mount namespace of its own where the shell start-up files that bash reads for a
     * command over SSH ({@code ~/.bashrc}, {@code /etc/bash.bashrc}) are empty: they belong to the
     * machine, not the testbed, and one that hangs (a pyenv rehash lock left by a killed session
     * blocked every remote command for 60 s) or prints would break the tests. unshare, mount and
     * sh all exec, so the PID is still sshd's own.
     */
    private List<String> sshdCommand(Path config) {
        Path empty = workDir.resolve("empty-rc");
        try {
            if (!Files.exists(empty)) {
                Files.createFile(empty);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String home = System.getProperty("user.home"); // the tests run as root, the SSH user
        String mask = "for f in " + home + "/.bashrc /etc/bash.bashrc; do"
                + " if [ -e \"$f\" ]; then mount --bind " + empty + " \"$f\" || exit 1; fi; done; exec \"$@\"";
        return List.of(tools.unshare().toString(), "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", mask, "sh", tools.sshd().toString(), "-D", "-e", "-f", config.toString());
    }

    /** Starts sshd again with the current sshd_config and waits for its banner. */
    void relaunchSshd() {
        launch("sshd", sshdCommand(workDir.resolve("sshd_config")));
        awaitCondition("sshd on " + namespaceIp + ":" + SSH_PORT, DAEMON_READY_TIMEOUT, this::sshdSendsBanner,
                daemon("sshd"), workDir.resolve("sshd.log"));
    }

    /** Starts containerd again (after it was killed) and waits for its socket. */
    void relaunchContainerd() {
        Path socket = workDir.resolve("containerd/containerd.sock");
        try {
            Files.deleteIfExists(socket); // a killed containerd leaves its socket behind
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        launch("containerd", List.of(tools.containerd().toString(), "--config",
                workDir.resolve("containerd.toml").toString()));
        awaitContainerd(socket);
    }

    /**
     * Waits until containerd answers its API, not just until its socket exists: a containerd that
     * restarts beside live shims (after a SIGKILL) takes a while to load them, and a dockerd
     * started meanwhile gives up dialing it ("context deadline exceeded").
     */
    private void awaitContainerd(Path socket) {
        Path ctr = tools.containerd().resolveSibling("ctr"); // in Debian's containerd package, beside it
        awaitCondition("containerd answering on " + socket, DAEMON_READY_TIMEOUT,
                () -> Files.exists(socket) && Processes.run(
                        List.of(ctr.toString(), "--address", socket.toString(), "version"),
                        Duration.ofSeconds(10), Map.of(), null).ok(),
                daemon("containerd"), workDir.resolve("containerd.log"));
    }

    /** Starts dockerd again (after it stopped or was killed) with the storage driver it had. */
    void relaunchDockerd() {
        launchDockerd(workDir.resolve("containerd/containerd.sock"), storageDriver);
    }

    Prerequisites.Tools tools() {
        return tools;
    }

    /** A process the tests started that {@link #close()} kills if it is still running. */
    void trackClientProcess(Process process) {
        clientProcesses.add(process);
    }

    // ---------------------------------------------------------------- small helpers

    boolean sshdSendsBanner() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(namespaceIp, SSH_PORT), 500);
            socket.setSoTimeout(2000);
            InputStream in = socket.getInputStream();
            byte[] banner = new byte[8];
            int read = in.readNBytes(banner, 0, banner.length);
            return new String(banner, 0, read, StandardCharsets.US_ASCII).startsWith("SSH-2.0");
        } catch (IOException e) {
            return false;
        }
    }

    private boolean echoesFromHost(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(namespaceIp, port), 500);
            socket.setSoTimeout(1000);
            socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = socket.getInputStream().readNBytes(5);
            return new String(reply, StandardCharsets.US_ASCII).equals("ping\n");
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a TCP socket listens on 127.0.0.1:port in the host's network namespace (/proc/net/tcp). */
    private static boolean listeningOnHostLoopback(int port) {
        String localAddress = String.format("0100007F:%04X", port); // little-endian 127.0.0.1
        try {
            return Files.readAllLines(Path.of("/proc/net/tcp")).stream()
                    .map(line -> line.trim().split("\\s+"))
                    .anyMatch(f -> f.length > 3 && f[1].equals(localAddress) && f[3].equals("0A")); // 0A = LISTEN
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean tcpPortAccepts(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Polls {@code condition} every 50 ms until true. Fails at the deadline, or at once when the
     * {@code process} it depends on has died, with that process's log tail in the message.
     */
    void awaitCondition(String what, Duration timeout, BooleanSupplier condition, Process process,
                                Path log) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (process != null && !process.isAlive()) {
                throw new TestbedException("waiting for " + what + ": the process exited with "
                        + process.exitValue() + (log == null ? "" : "; tail of " + log + ":\n" + tail(log)));
            }
            if (System.nanoTime() > deadline) {
                throw new TestbedException("waiting for " + what + ": not ready after " + timeout.toSeconds() + " s"
                        + (log == null ? "" : "; tail of " + log + ":\n" + tail(log)));
            }
            Processes.pause(Duration.ofMillis(50));
        }
    }

    private static String keyTypeAndBase64(Path publicKeyFile) throws IOException {
        String[] parts = Files.readString(publicKeyFile).trim().split("\\s+");
        return parts[0] + " " + parts[1];
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static String lastLine(String text) {
        String[] lines = text.split("\n");
        return lines[lines.length - 1];
    }

    private static void log(String format, Object... args) {
        System.err.println("[testbed] " + String.format(format, args));
    }
}
