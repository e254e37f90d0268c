package dev.docktunnel.bench;

import java.util.Locale;

/** Everything the benchmark reports, one row group each in the table, with the targets. */
enum Measure {
    THROUGHPUT_1("iperf3 1 stream", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS, Target.ratioAtLeast(1.0)),
    THROUGHPUT_4("iperf3 4 streams (-P 4)", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS, Target.ratioAtLeast(1.2)),
    THROUGHPUT_REVERSE("iperf3 reverse (-R)", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS, null),
    PING_PONG_P50("64 B ping-pong round trip p50", "µs", Better.LOWER, Scope.ALL_PATHS, Target.ratioAtMost(1.1)),
    PING_PONG_P99("64 B ping-pong round trip p99", "µs", Better.LOWER, Scope.ALL_PATHS, null),
    HTTP_P50("new connection + HTTP GET p50", "ms", Better.LOWER, Scope.ALL_PATHS, Target.valueAtMost(1.0, "ms")),
    HTTP_P99("new connection + HTTP GET p99", "ms", Better.LOWER, Scope.ALL_PATHS, null),
    // The client side of each tunnel: the ssh process, or the docktunnel JVM (both do the same job).
    CPU_PER_GBIT_1("client CPU per Gbit, 1 stream", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS, null),
    CPU_PER_GBIT_4("client CPU per Gbit, 4 streams", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS, null),
    CPU_PER_GBIT_REVERSE("client CPU per Gbit, reverse", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS, null),
    START_P50("container start → local port accepting p50", "ms", Better.LOWER, Scope.DOCKTUNNEL, null),
    START_P99("container start → local port accepting p99", "ms", Better.LOWER, Scope.DOCKTUNNEL,
            Target.valueAtMost(100, "ms")),
    RSS_IDLE("docktunnel RSS idle", "MiB", Better.LOWER, Scope.DOCKTUNNEL, Target.valueAtMost(96, "MiB")),
    RSS_LOAD("docktunnel RSS max under load", "MiB", Better.LOWER, Scope.DOCKTUNNEL, Target.valueAtMost(160, "MiB")),
    THREADS_IDLE("docktunnel threads idle", "threads", Better.LOWER, Scope.DOCKTUNNEL, null),
    THREADS_LOAD("docktunnel threads max under load", "threads", Better.LOWER, Scope.DOCKTUNNEL, null);

    enum Better { HIGHER, LOWER }

    /** Which paths a measure applies to. */
    enum Scope { ALL_PATHS, TUNNELS, DOCKTUNNEL }

    /**
     * A target from the issue, judged on docktunnel's median: either its ratio against
     * {@code ssh -N -L} (aes128-gcm) of the same run, or its absolute value.
     */
    record Target(String text, boolean onRatio, boolean atLeast, double bound) {
        static Target ratioAtLeast(double bound) {
            return new Target("≥ " + bound + "× ssh -N -L", true, true, bound);
        }

        static Target ratioAtMost(double bound) {
            return new Target("≤ " + bound + "× ssh -N -L", true, false, bound);
        }

        static Target valueAtMost(double bound, String unit) {
            return new Target("≤ " + BenchReport.number(bound) + " " + unit, false, false, bound);
        }

        boolean met(double value) {
            return atLeast ? value >= bound : value <= bound;
        }
    }

    final String label;
    final String unit;
    final Better better;
    final Scope scope;
    final Target target;

    Measure(String label, String unit, Better better, Scope scope, Target target) {
        this.label = label;
        this.unit = unit;
        this.better = better;
        this.scope = scope;
        this.target = target;
    }

    /** The measure's name in the JSON: {@code throughput-1}, {@code ping-pong-p50}, ... */
    String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    boolean appliesTo(BenchPath path) {
        return switch (scope) {
            case ALL_PATHS -> true;
            case TUNNELS -> path.client() != null;
            case DOCKTUNNEL -> path.id().equals(BenchPath.DOCKTUNNEL);
        };
    }
}
