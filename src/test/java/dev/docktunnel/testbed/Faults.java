package dev.docktunnel.testbed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Faults the testbed can inflict on the "remote host", for the fault suite. Every process is
 * signalled by its PID (the testbed's own daemons only), every network fault stays inside the
 * testbed's namespace. Get it with {@link Testbed#faults()}.
 */
public final class Faults {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

    private final Testbed testbed;

    Faults(Testbed testbed) {
        this.testbed = testbed;
    }

    // ---------------------------------------------------------------- sshd

    /**
     * SIGKILLs sshd and every process below it (the per-connection sshd children too, so the SSH
     * connections die with it as in a crash of the host's sshd), and waits until they are gone.
     * Nothing listens on the SSH port afterwards until {@link #startSshd()}.
     */
    public void killSshd() {
        Process sshd = running("sshd");
        List<ProcessHandle> tree = sshd.descendants().toList();
        Processes.killTree(sshd.toHandle());
        awaitGone("sshd (pid " + sshd.pid() + ")", sshd.toHandle());
        for (ProcessHandle child : tree) {
            awaitGone("sshd child (pid " + child.pid() + ")", child);
        }
    }

    /** Starts sshd again (same config, same host key) and waits until it sends its banner. */
    public void startSshd() {
        testbed.relaunchSshd();
    }

    /** Starts sshd when it is not running (for a test's teardown after a failure mid-fault). */
    public void ensureSshdRunning() {
        Process sshd = testbed.daemon("sshd");
        if (sshd == null || !sshd.isAlive()) {
            testbed.relaunchSshd();
        }
    }

    /**
     * Rewrites sshd_config with {@code extraOptions} (whole lines, e.g. {@code "RekeyLimit 1M"};
     * an empty list restores the defaults), then stops the listening sshd (SIGTERM; connections
     * already open keep their sshd children and their old options) and starts it again.
     * New connections get the new options.
     */
    public void restartSshdWith(List<String> extraOptions) {
        testbed.writeSshdConfig(extraOptions);
        Process sshd = running("sshd");
        if (!Processes.stop(sshd.pid(), Duration.ofSeconds(5))) {
            throw new TestbedException("sshd (pid " + sshd.pid() + ") did not stop");
        }
        testbed.relaunchSshd();
    }

    /**
     * Kills every established TCP connection of the namespace's sshd with {@code ss -K} (the
     * kernel aborts the socket and sends an RST to the client), run inside the namespace.
     *
     * @return how many connections were killed
     */
    public int killSshConnections() {
        ProcessResult result = testbed.nsExec(COMMAND_TIMEOUT, "ss", "-K", "-t", "-n", "-H", "state", "established",
                "( sport = :" + testbed.sshPort() + " )").orThrow();
        return (int) result.stdout().lines().filter(line -> !line.isBlank()).count();
    }

    /** How many established TCP connections the namespace's sshd has now. */
    public int sshConnectionCount() {
        ProcessResult result = testbed.nsExec(COMMAND_TIMEOUT, "ss", "-t", "-n", "-H", "state", "established",
                "( sport = :" + testbed.sshPort() + " )").orThrow();
        return (int) result.stdout().lines().filter(line -> !line.isBlank()).count();
    }

    // ---------------------------------------------------------------- half-open link

    /**
     * Drops every packet to and from the sshd port inside the namespace (iptables DROP on INPUT
     * and OUTPUT): the SSH connection becomes half-open, neither side hears a FIN or RST.
     * Undo with {@link #healSshLink()}.
     */
    public void dropSshPackets() {
        iptables("-I", sshRules()[0]);
        iptables("-I", sshRules()[1]);
    }

    /** Removes the rules of {@link #dropSshPackets()} (quietly when they are not there). */
    public void healSshLink() {
        for (String rule : sshRules()) {
            while (testbed.nsExec(iptablesCommand("-D", rule), COMMAND_TIMEOUT).ok()) {
                // the same rule may have been inserted twice
            }
        }
    }

    private String[] sshRules() {
        String port = Integer.toString(testbed.sshPort());
        return new String[] {"INPUT -p tcp --dport " + port + " -j DROP", "OUTPUT -p tcp --sport " + port + " -j DROP"};
    }

    private void iptables(String action, String rule) {
        testbed.nsExec(iptablesCommand(action, rule), COMMAND_TIMEOUT).orThrow();
    }

    private static List<String> iptablesCommand(String action, String rule) {
        List<String> command = new ArrayList<>(List.of("iptables", "-w", action));
        command.addAll(List.of(rule.split(" ")));
        return command;
    }

    // ---------------------------------------------------------------- dockerd

    /**
     * SIGTERMs dockerd and waits until it exited: it stops its containers first (within its
     * {@code --shutdown-timeout}), as on an orderly engine stop. Start it with {@link #startDockerd()}.
     */
    public void terminateDockerd() {
        Process dockerd = running("dockerd");
        dockerd.toHandle().destroy();
        awaitGone("dockerd (pid " + dockerd.pid() + ") after SIGTERM", dockerd.toHandle());
    }

    /**
     * SIGKILLs dockerd and its containerd (a crash of the engine): the containers' shims and
     * processes live on. Start both with {@link #startDockerd()}, which restarts containerd too.
     */
    public void killDockerd() {
        for (String daemon : List.of("dockerd", "containerd")) {
            Process process = running(daemon);
            process.toHandle().destroyForcibly();
            awaitGone(daemon + " (pid " + process.pid() + ") after SIGKILL", process.toHandle());
        }
    }

    /**
     * Starts dockerd again, and containerd first when it is not running; waits until the engine
     * answers. Without live-restore, dockerd stops the containers it finds still running and
     * starts again those with a restart policy.
     */
    public void startDockerd() {
        Process containerd = testbed.daemon("containerd");
        if (containerd == null || !containerd.isAlive()) {
            testbed.relaunchContainerd();
        }
        try {
            testbed.relaunchDockerd();
        } catch (TestbedException dockerdFailed) {
            Process now = testbed.daemon("containerd");
            if (now != null && now.isAlive()) {
                throw new TestbedException(dockerdFailed.getMessage() + "\n--- containerd (still running) log tail:\n"
                        + Testbed.tail(testbed.workDir().resolve("containerd.log")));
            }
            // Seen once on a busy 2-core CI machine: a containerd restarted beside the live shims of
            // the one SIGKILLed answered `ctr version`, then exited, and dockerd gave up dialing it.
            // A host's service manager would start it again; so does the testbed, once, loudly.
            System.out.println("[testbed] containerd exited (" + (now == null ? "?" : now.exitValue())
                    + ") after its restart; starting"
                    + " it and dockerd again. Its log: " + testbed.workDir().resolve("containerd.log")
                    + "\n" + Testbed.tail(testbed.workDir().resolve("containerd.log")));
            testbed.relaunchContainerd();
            testbed.relaunchDockerd();
        }
    }

    /** Starts containerd and dockerd when they are not running (for a test's teardown after a failure). */
    public void ensureDockerdRunning() {
        Process dockerd = testbed.daemon("dockerd");
        if (dockerd == null || !dockerd.isAlive()) {
            startDockerd();
        }
    }

    // ---------------------------------------------------------------- helpers

    private Process running(String daemon) {
        Process process = testbed.daemon(daemon);
        if (process == null || !process.isAlive()) {
            throw new TestbedException(daemon + " of " + testbed.name() + " is not running");
        }
        return process;
    }

    private static void awaitGone(String what, ProcessHandle handle) {
        if (!Processes.awaitGone(handle.pid(), EXIT_TIMEOUT)) {
            throw new TestbedException(what + " still running after " + EXIT_TIMEOUT.toSeconds() + " s");
        }
    }
}
