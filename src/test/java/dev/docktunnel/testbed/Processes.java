package dev.docktunnel.testbed;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Plain-JDK process helpers: run a command to completion with a timeout, start a daemon with
 * its output in a log file, and stop a process by PID (SIGTERM, wait, SIGKILL).
 */
final class Processes {

    /**
     * PATH for everything the testbed starts: the Debian-packaged tools only, so a stray binary
     * in /usr/local (this machine has a second docker client there) never replaces a daemon's
     * helper (docker-proxy, runc, containerd-shim), and sbin is present even when the JVM's PATH
     * lacks it.
     */
    static final String SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

    private static final File DEV_NULL = new File("/dev/null");

    private Processes() {
    }

    /**
     * Runs {@code command} to completion; never throws for a non-zero exit (see {@link ProcessResult#orThrow()}).
     * In {@code env}, an empty value removes that variable from the child's environment.
     */
    static ProcessResult run(List<String> command, Duration timeout, Map<String, String> env, byte[] stdin) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PATH", SYSTEM_PATH);
        env.forEach((key, value) -> {
            if (value.isEmpty()) {
                builder.environment().remove(key);
            } else {
                builder.environment().put(key, value);
            }
        });
        if (stdin == null) {
            builder.redirectInput(DEV_NULL);
        }
        long startNanos = System.nanoTime();
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new TestbedException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        // Drain both pipes on their own threads: a full pipe would block the child forever.
        StreamCollector out = StreamCollector.start(process.getInputStream(), "stdout of " + command.get(0));
        StreamCollector err = StreamCollector.start(process.getErrorStream(), "stderr of " + command.get(0));
        if (stdin != null) {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // The command exited without reading all of its input; its exit code tells the story.
            }
        }
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            killTree(process.toHandle());
            Thread.currentThread().interrupt();
            throw new TestbedException("interrupted while running " + String.join(" ", command), e);
        }
        if (!finished) {
            killTree(process.toHandle());
            waitQuietly(process, Duration.ofSeconds(5));
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        // A background grandchild (e.g. `ssh -f`) may keep the pipes open: do not wait for it forever.
        String stdout = out.finish(Duration.ofSeconds(2));
        String stderr = err.finish(Duration.ofSeconds(2));
        return new ProcessResult(List.copyOf(command), finished ? process.exitValue() : -1, stdout, stderr, elapsed,
                !finished);
    }

    /** Starts a long-running process with stdin from /dev/null and stdout+stderr appended to {@code log}. */
    static Process startDaemon(List<String> command, Path log) {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(DEV_NULL)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("PATH", SYSTEM_PATH);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new TestbedException("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops one process by PID: SIGTERM, up to {@code grace} to exit, then SIGKILL.
     *
     * @return true when the process is gone afterwards
     */
    static boolean stop(long pid, Duration grace) {
        if (pid <= 1 || pid == ProcessHandle.current().pid()) {
            return true; // never signal init or ourselves, whatever a pid file says
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || isGone(pid)) {
            return true;
        }
        handle.get().destroy();
        if (awaitGone(pid, grace)) {
            return true;
        }
        handle.get().destroyForcibly();
        return awaitGone(pid, Duration.ofSeconds(5));
    }

    /** SIGKILLs a process and all its descendants, deepest first, so no child is re-parented and missed. */
    static void killTree(ProcessHandle root) {
        if (root.pid() <= 1 || root.pid() == ProcessHandle.current().pid()) {
            return;
        }
        root.descendants()
                .sorted(Comparator.comparingInt(Processes::depthBelowInit).reversed())
                .forEach(ProcessHandle::destroyForcibly);
        root.destroyForcibly();
    }

    /** Whether the PID no longer names a running process (absent, or a zombie nobody reaped yet). */
    static boolean isGone(long pid) {
        try {
            String state = statFields(pid)[0];
            return state.equals("Z") || state.equals("X");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /**
     * When a process started, in clock ticks since boot (field 22 of /proc/PID/stat): exact and
     * immune to wall-clock steps, unlike {@link ProcessHandle.Info#startInstant()}, which is
     * derived from the boot time and can shift by seconds between two readers.
     */
    static OptionalLong startTicks(long pid) {
        try {
            return OptionalLong.of(Long.parseLong(statFields(pid)[19]));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The fields of /proc/PID/stat after the command name, from field 3 (the state) on. The name
     * ("pid (comm) S ...") may hold spaces and parentheses, so they are read after the last ')'.
     */
    private static String[] statFields(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 1).trim().split(" ");
    }

    static boolean awaitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isGone(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            pause(Duration.ofMillis(20));
        }
        return true;
    }

    /** The command line of a live process (NULs turned into spaces), or "" when it is gone. */
    static String commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** A short pause between polls of a condition that has its own deadline. */
    static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TestbedException("interrupted while waiting", e);
        }
    }

    private static void waitQuietly(Process process, Duration timeout) {
        try {
            process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int depthBelowInit(ProcessHandle handle) {
        int depth = 0;
        Optional<ProcessHandle> parent = handle.parent();
        while (parent.isPresent() && depth < 64) {
            depth++;
            parent = parent.get().parent();
        }
        return depth;
    }

    /** Reads one stream to its end on a daemon thread. */
    private static final class StreamCollector implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final Thread thread;

        private StreamCollector(InputStream in, String name) {
            this.in = in;
            this.thread = new Thread(this, "testbed-" + name);
            this.thread.setDaemon(true);
        }

        static StreamCollector start(InputStream in, String name) {
            StreamCollector collector = new StreamCollector(in, name);
            collector.thread.start();
            return collector;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(chunk)) >= 0) {
                    synchronized (buffer) {
                        buffer.write(chunk, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // Stream closed under us (process killed): keep what was read.
            }
        }

        String finish(Duration wait) {
            try {
                thread.join(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
