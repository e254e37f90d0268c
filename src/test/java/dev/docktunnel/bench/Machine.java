package dev.docktunnel.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the numbers were measured on: cores, CPU, kernel, JVM, OpenSSH, iperf3, the commit. */
final class Machine {

    private Machine() {
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /**
     * The fraction of all CPUs' time that was busy (not idle, not waiting for I/O) over
     * {@code window}, from /proc/stat: taken before the run, it shows whether something else was
     * already competing for the 2 cores. Null when /proc/stat is unreadable.
     */
    static Double cpuBusyFraction(java.time.Duration window) {
        long[] before = cpuTimes();
        try {
            Thread.sleep(window.toMillis()); // the measuring window itself, not a wait for a condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        long[] after = cpuTimes();
        if (before == null || after == null || after[0] == before[0]) {
            return null;
        }
        return 1.0 - (double) (after[1] - before[1]) / (after[0] - before[0]);
    }

    /** {total, idle + iowait} jiffies of the "cpu" line of /proc/stat. */
    private static long[] cpuTimes() {
        String line = read("/proc/stat").lines().filter(l -> l.startsWith("cpu ")).findFirst().orElse(null);
        if (line == null) {
            return null;
        }
        String[] f = line.trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
            total += Long.parseLong(f[i]);
        }
        return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    static JsonObject describe(String iperf3) {
        String ssh = HostTools.find("ssh");
        String sshCiphers = firstLineStartingWith(command(ssh, "-F", "/dev/null", "-G", "benchmark-host"), "ciphers ");
        return new JsonObject()
                .put("nproc", Runtime.getRuntime().availableProcessors())
                .put("cpu", firstValue(read("/proc/cpuinfo"), "model name"))
                .put("memTotal", firstValue(read("/proc/meminfo"), "MemTotal"))
                .put("kernel", read("/proc/sys/kernel/osrelease").trim())
                .put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
                .put("openssh", command(ssh, "-V").trim())
                // OpenSSH's own preference order; its first entry is what "default" negotiates with our sshd.
                .put("opensshDefaultCipher", sshCiphers.isEmpty() ? null
                        : sshCiphers.substring("ciphers ".length()).split(",")[0])
                .put("iperf3", firstLine(command(iperf3, "--version")))
                .put("gitCommit", command(HostTools.findOrNull("git"), "rev-parse", "--short", "HEAD").trim())
                .put("gitDirty", !command(HostTools.findOrNull("git"), "status", "--porcelain", "--", "src", "pom.xml")
                        .isBlank());
    }

    /** The command's stdout and stderr, or "" when it cannot run. */
    private static String command(String executable, String... args) {
        if (executable == null) {
            return "";
        }
        List<String> command = new java.util.ArrayList<>(List.of(executable));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "";
            }
            return process.exitValue() == 0 ? out : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            return "";
        }
    }

    private static String firstValue(String text, String key) {
        return text.lines().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf(':') + 1).trim())
                .findFirst().orElse(null);
    }

    private static String firstLineStartingWith(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
    }

    private static String firstLine(String text) {
        return text.lines().findFirst().orElse("");
    }
}
