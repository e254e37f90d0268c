package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Tearing a testbed down, for the running one and for leftovers of crashed runs.
 *
 * <p>Everything a testbed owns is derived from its name ({@code dt-xxxxxx}): the network
 * namespace, the host-side veth, and the work dir {@code /tmp/dt-xxxxxx} with its ownership
 * marker and PID files. Teardown only signals PIDs that are provably ours: recorded by us and
 * still running a command line that names our work dir, or living in our network namespace
 * (and their descendants, i.e. container processes under our containerd shims).
 */
final class Cleanup {

    static final Pattern NAME_PATTERN = Pattern.compile("dt-[a-z0-9]{6}");
    static final String MARKER_FILE = "testbed.owner";
    static final String OWNER_TAG = "docktunnel-testbed";
    static final String PID_DIR = "pids";

    /** Stop order matters: dockerd first (it stops its containers), then containerd, then sshd. */
    static final List<String> DAEMONS = List.of("dockerd", "containerd", "sshd");

    private static final Duration DOCKERD_GRACE = Duration.ofSeconds(10);
    private static final Duration DAEMON_GRACE = Duration.ofSeconds(3);

    /** Testbeds this JVM owns, with the lock on each marker once taken. */
    private static final Map<String, Optional<FileLock>> HELD_HERE = new ConcurrentHashMap<>();

    private Cleanup() {
    }

    static Path workDirOf(String name) {
        return Path.of("/tmp", name);
    }

    static Path netnsPathOf(String name) {
        return Path.of("/run/netns", name);
    }

    static String hostVethOf(String name) {
        return name + "h";
    }

    static String nsVethOf(String name) {
        return name + "n";
    }

    /**
     * Writes the ownership marker (which JVM, by pid and start time, owns this testbed) and takes
     * an exclusive OS lock on it, held for the testbed's life; the OS drops it when the JVM dies,
     * which is what lets a later run claim the leftovers. The lock is a POSIX lock: it belongs to
     * the process and goes with the close of ANY descriptor of the file in this JVM, so this JVM's
     * own sweeps never open a marker it holds ({@link #HELD_HERE}).
     */
    static void writeMarker(String name) throws IOException {
        HELD_HERE.put(name, Optional.empty()); // before the file exists: no sweep here may open it
        ProcessHandle self = ProcessHandle.current();
        OptionalLong start = Processes.startTicks(self.pid());
        String ticks = start.isPresent() ? Long.toString(start.getAsLong()) : "unknown";
        String text = "owner=" + OWNER_TAG + "\n"
                + "name=" + name + "\n"
                + "pid=" + self.pid() + "\n"
                + "pidStartTicks=" + ticks + "\n"
                + "created=" + Instant.now() + "\n";
        Path marker = workDirOf(name).resolve(MARKER_FILE);
        Files.writeString(marker, text);
        FileChannel channel = FileChannel.open(marker, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            throw new IOException("marker " + marker + " is locked by another process");
        }
        HELD_HERE.put(name, Optional.of(lock));
    }

    /** Lets go of this JVM's lock on {@code name}'s marker, once the testbed is torn down. */
    static void releaseMarker(String name) {
        Optional<FileLock> lock = HELD_HERE.remove(name);
        if (lock != null && lock.isPresent()) {
            try {
                lock.get().channel().close();
            } catch (IOException ignored) {
                // the file is gone already: nothing left to protect
            }
        }
    }

    /** Records a daemon's PID so a later run can stop it if this JVM dies without tearing down. */
    static void recordPid(String name, String daemon, long pid) throws IOException {
        Path dir = workDirOf(name).resolve(PID_DIR);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(daemon), Long.toString(pid));
    }

    /**
     * Removes everything of testbed {@code name}. Idempotent; never throws.
     *
     * @return what could not be cleaned (empty when everything is gone)
     */
    static List<String> tearDown(String name, Path dockerCli, Map<String, Long> livePids) {
        List<String> problems = new ArrayList<>();
        Path workDir = workDirOf(name);
        Path socket = workDir.resolve("docker.sock");
        try {
            // Removing containers with SIGKILL first makes dockerd's own shutdown quick: it would
            // otherwise wait the stop timeout for every container whose PID 1 ignores SIGTERM.
            if (dockerCli != null && Files.exists(socket) && isAlive(name, "dockerd", livePids)) {
                removeAllContainers(dockerCli, socket);
            }
        } catch (RuntimeException e) {
            problems.add("removing containers: " + e.getMessage());
        }
        for (String daemon : DAEMONS) {
            try {
                for (long pid : pidsOf(name, daemon, livePids)) {
                    if (!Processes.stop(pid, daemon.equals("dockerd") ? DOCKERD_GRACE : DAEMON_GRACE)) {
                        problems.add(daemon + " (pid " + pid + ") survived SIGKILL");
                    }
                }
            } catch (RuntimeException e) {
                problems.add("stopping " + daemon + ": " + e.getMessage());
            }
        }
        try {
            killNamespaceProcesses(name, problems);
        } catch (RuntimeException e) {
            problems.add("killing processes in netns " + name + ": " + e.getMessage());
        }
        try {
            unmountUnder(workDir, problems);
        } catch (RuntimeException e) {
            problems.add("unmounting under " + workDir + ": " + e.getMessage());
        }
        try {
            if (Files.exists(Path.of("/sys/class/net", hostVethOf(name)))) {
                ProcessResult r = ip(List.of("link", "del", hostVethOf(name)));
                if (!r.ok()) {
                    problems.add("deleting veth: " + r.describeFailure());
                }
            }
            if (Files.exists(netnsPathOf(name))) {
                ProcessResult r = ip(List.of("netns", "del", name));
                if (!r.ok()) {
                    problems.add("deleting netns: " + r.describeFailure());
                }
            }
        } catch (RuntimeException e) {
            problems.add("deleting network: " + e.getMessage());
        }
        try {
            if (Files.exists(workDir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                List<String> stillMounted = mountPointsUnder(workDir);
                if (stillMounted.isEmpty()) {
                    deleteWorkDir(workDir);
                } else {
                    // Never delete through a mount: it could reach files that are not ours.
                    problems.add("kept " + workDir + " because these are still mounted: " + stillMounted);
                }
            }
        } catch (IOException | RuntimeException e) {
            problems.add("deleting " + workDir + ": " + e.getMessage());
        }
        return problems;
    }

    /**
     * Tears down testbeds left by crashed runs: only names matching {@code dt-xxxxxx} whose work
     * dir holds our marker and whose owning JVM is gone. Anything else is left alone.
     */
    static void cleanLeftovers(String ownName, Path dockerCli, PrintStream log) {
        Set<String> candidates = new TreeSet<>();
        candidates.addAll(namesIn(Path.of("/run/netns")));
        candidates.addAll(namesIn(Path.of("/tmp")));
        if (ownName != null) {
            candidates.remove(ownName);
        }
        candidates.removeAll(HELD_HERE.keySet());
        for (String name : candidates) {
            Optional<Properties> marker = readMarker(name);
            if (marker.isEmpty()) {
                if (Files.exists(netnsPathOf(name))) {
                    log.println("[testbed] leaving netns " + name + " alone: no " + OWNER_TAG + " marker in "
                            + workDirOf(name));
                }
                continue;
            }
            Path markerFile = workDirOf(name).resolve(MARKER_FILE);
            // The owner holds this lock while alive; getting it also keeps two cleaners apart.
            try (FileChannel channel = FileChannel.open(markerFile, StandardOpenOption.READ,
                    StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
                if (lock == null || ownerIsAlive(marker.get())) {
                    continue; // another test JVM is using it (or cleaning it) right now
                }
                log.println("[testbed] cleaning up leftover testbed " + name + " of dead JVM pid "
                        + marker.get().getProperty("pid"));
                List<String> problems = tearDown(name, dockerCli, Map.of());
                if (!problems.isEmpty()) {
                    log.println("[testbed] leftover " + name + " not fully cleaned: " + problems);
                }
            } catch (IOException e) {
                log.println("[testbed] cannot check leftover " + name + ": " + e.getMessage());
            }
        }
    }

    static void removeAllContainers(Path dockerCli, Path socket) {
        Map<String, String> env = dockerEnv(socket.getParent());
        List<String> base = List.of(dockerCli.toString(), "-H", "unix://" + socket);
        ProcessResult ps = Processes.run(concat(base, "ps", "-aq"), Duration.ofSeconds(20), env, null).orThrow();
        List<String> ids = ps.stdout().lines().map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (!ids.isEmpty()) {
            List<String> rm = new ArrayList<>(concat(base, "rm", "-f", "-v"));
            rm.addAll(ids);
            Processes.run(rm, Duration.ofSeconds(60), env, null).orThrow();
        }
    }

    /** Environment for the docker CLI: its own config dir, and no inherited DOCKER_* that could redirect it. */
    static Map<String, String> dockerEnv(Path workDir) {
        return Map.of("DOCKER_CONFIG", workDir.resolve("docker-cli-config").toString(),
                "DOCKER_HOST", "", "DOCKER_CONTEXT", "", "DOCKER_TLS_VERIFY", "", "DOCKER_CERT_PATH", "");
    }

    private static boolean isAlive(String name, String daemon, Map<String, Long> livePids) {
        return pidsOf(name, daemon, livePids).stream().anyMatch(pid -> !Processes.isGone(pid));
    }

    /**
     * PIDs of one daemon that are still running OUR command line: the one this JVM holds, the one
     * we recorded, and the one the daemon wrote itself. A recycled PID fails the command-line check.
     */
    private static Set<Long> pidsOf(String name, String daemon, Map<String, Long> livePids) {
        Path workDir = workDirOf(name);
        Set<Long> pids = new LinkedHashSet<>();
        if (livePids.containsKey(daemon)) {
            pids.add(livePids.get(daemon));
        }
        readPid(workDir.resolve(PID_DIR).resolve(daemon)).ifPresent(pids::add);
        readPid(workDir.resolve(daemon + ".pid")).ifPresent(pids::add);
        pids.removeIf(pid -> Processes.isGone(pid) || !Processes.commandLine(pid).contains(workDir.toString()));
        return pids;
    }

    private static void killNamespaceProcesses(String name, List<String> problems) {
        if (!Files.exists(netnsPathOf(name))) {
            return;
        }
        for (int round = 0; round < 5; round++) {
            ProcessResult r = ip(List.of("netns", "pids", name));
            List<Long> pids = r.stdout().lines().map(String::trim).filter(s -> s.matches("\\d+"))
                    .map(Long::parseLong).toList();
            if (pids.isEmpty()) {
                return;
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(Processes::killTree);
            }
            for (long pid : pids) {
                Processes.awaitGone(pid, Duration.ofSeconds(2));
            }
        }
        problems.add("processes still in netns " + name + ": " + ip(List.of("netns", "pids", name)).stdout().trim());
    }

    private static void unmountUnder(Path dir, List<String> problems) {
        for (int round = 0; round < 3; round++) {
            List<String> mounts = mountPointsUnder(dir);
            if (mounts.isEmpty()) {
                return;
            }
            for (String mountPoint : mounts) {
                // Lazy: detaches now even if something still has it open.
                Processes.run(List.of("umount", "-l", mountPoint), Duration.ofSeconds(10), Map.of(), null);
            }
        }
        List<String> left = mountPointsUnder(dir);
        if (!left.isEmpty()) {
            problems.add("still mounted: " + left);
        }
    }

    /** Mount points at or below {@code dir} in our mount namespace, deepest first. */
    static List<String> mountPointsUnder(Path dir) {
        String prefix = dir.toString();
        List<String> result = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                if (fields.length < 5) {
                    continue;
                }
                String mountPoint = unescapeMountPath(fields[4]);
                if (mountPoint.equals(prefix) || mountPoint.startsWith(prefix + "/")) {
                    result.add(mountPoint);
                }
            }
        } catch (IOException e) {
            throw new TestbedException("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
        }
        result.sort(Comparator.comparingInt(String::length).reversed());
        return result;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
    private static String unescapeMountPath(String raw) {
        StringBuilder out = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '\\' && i + 3 < raw.length() && raw.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(raw.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Deletes the work dir with its ownership marker last, so an interrupted delete still leaves a
     * dir that the next run recognises as ours and finishes.
     */
    private static void deleteWorkDir(Path workDir) throws IOException {
        Path marker = workDir.resolve(MARKER_FILE);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(workDir)) {
            for (Path entry : entries) {
                if (!entry.equals(marker)) {
                    deleteTree(entry);
                }
            }
        }
        Files.deleteIfExists(marker);
        Files.deleteIfExists(workDir);
    }

    /** Deletes a tree without following symlinks (the image rootfs is full of them). */
    static void deleteTree(Path root) throws IOException {
        Files.walkFileTree(root, TREE_DELETER);
    }

    /**
     * Created when this class loads, i.e. at testbed start: teardown must not need to load classes
     * from target/ late, which a concurrent `mvn clean` in the same work tree may have removed.
     */
    private static final SimpleFileVisitor<Path> TREE_DELETER = new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
        }
    };

    private static Set<String> namesIn(Path dir) {
        Set<String> names = new TreeSet<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "dt-*")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (NAME_PATTERN.matcher(name).matches()) {
                    names.add(name);
                }
            }
        } catch (IOException ignored) {
            // unreadable: nothing we can claim there
        }
        return names;
    }

    private static Optional<Properties> readMarker(String name) {
        Path marker = workDirOf(name).resolve(MARKER_FILE);
        if (!Files.isRegularFile(marker, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(marker)) {
            props.load(reader);
        } catch (IOException e) {
            return Optional.empty();
        }
        boolean ours = OWNER_TAG.equals(props.getProperty("owner")) && name.equals(props.getProperty("name"))
                && props.getProperty("pid", "").matches("\\d+");
        return ours ? Optional.of(props) : Optional.empty();
    }

    /** Alive = that PID runs and started when the marker says (so a recycled PID does not count). */
    private static boolean ownerIsAlive(Properties marker) {
        long pid = Long.parseLong(marker.getProperty("pid"));
        if (Processes.isGone(pid)) {
            return false;
        }
        String recorded = marker.getProperty("pidStartTicks", "unknown");
        OptionalLong actual = Processes.startTicks(pid);
        if (!recorded.matches("\\d+") || actual.isEmpty()) {
            return true; // cannot tell: assume it is alive (conservative)
        }
        return actual.getAsLong() == Long.parseLong(recorded);
    }

    private static Optional<Long> readPid(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.matches("\\d+") ? Optional.of(Long.parseLong(text)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static ProcessResult ip(List<String> args) {
        return Processes.run(concat(List.of("ip"), args.toArray(String[]::new)), Duration.ofSeconds(10), Map.of(),
                null);
    }

    static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
