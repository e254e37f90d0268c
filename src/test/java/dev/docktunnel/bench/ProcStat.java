package dev.docktunnel.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What Linux's /proc says about one process: CPU ticks, resident size, threads. */
final class ProcStat {

    /** Resident size and thread count from {@code /proc/PID/status}. */
    record Status(long rssKib, int threads) {
        double rssMib() {
            return rssKib / 1024.0;
        }
    }

    private ProcStat() {
    }

    /** utime + stime in clock ticks, all threads, from {@code /proc/PID/stat}. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // "pid (comm) state ppid ...": comm may hold spaces, so count fields after the last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static Status status(long pid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"));
        long rss = -1;
        int threads = -1;
        for (String line : lines) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]); // "VmRSS:  123456 kB"
            } else if (line.startsWith("Threads:")) {
                threads = Integer.parseInt(line.substring(8).trim());
            }
        }
        if (rss < 0 || threads < 0) {
            throw new IOException("no VmRSS/Threads in /proc/" + pid + "/status (process gone?)");
        }
        return new Status(rss, threads);
    }

    /** Clock ticks per second ({@code getconf CLK_TCK}); 100 on every Linux we know. */
    static long clockTicksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor();
            return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }

    /**
     * Samples a process's RSS and thread count every {@code periodMillis} on a daemon thread and
     * keeps the maxima: "under load" is the maximum seen while the measurements run.
     */
    static final class Sampler implements AutoCloseable {
        private final long pid;
        private final long periodMillis;
        private final Thread thread;
        private volatile boolean running = true;
        private long maxRssKib;
        private int maxThreads;
        private int samples;
        private String lastError;

        Sampler(long pid, long periodMillis) {
            this.pid = pid;
            this.periodMillis = periodMillis;
            this.thread = new Thread(this::loop, "bench-rss-sampler");
            this.thread.setDaemon(true);
            this.thread.start();
        }

        private void loop() {
            while (running) {
                try {
                    Status s = status(pid);
                    synchronized (this) {
                        maxRssKib = Math.max(maxRssKib, s.rssKib());
                        maxThreads = Math.max(maxThreads, s.threads());
                        samples++;
                    }
                } catch (IOException | RuntimeException e) {
                    synchronized (this) {
                        lastError = e.toString();
                    }
                }
                try {
                    Thread.sleep(periodMillis); // the sampling period, not a wait for a condition
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        synchronized Status max() {
            return samples == 0 ? null : new Status(maxRssKib, maxThreads);
        }

        synchronized int samples() {
            return samples;
        }

        synchronized String lastError() {
            return lastError;
        }

        @Override
        public void close() {
            running = false;
            thread.interrupt();
            try {
                thread.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
