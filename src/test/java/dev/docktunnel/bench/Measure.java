package dev.docktunnel.bench;

import java.util.List;
import java.util.Locale;

/** Everything the benchmark reports, one row group each in the table, with the targets. */
enum Measure {
    THROUGHPUT_1("iperf3 1 stream", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS, Target.ratioAtLeast(1.0)),
    THROUGHPUT_4("iperf3 4 streams (-P 4)", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS, Target.ratioAtLeast(1.2)),
    THROUGHPUT_REVERSE("iperf3 reverse (-R)", "Gbit/s", Better.HIGHER, Scope.ALL_PATHS),
    PING_PONG_P50("64 B ping-pong round trip p50", "µs", Better.LOWER, Scope.ALL_PATHS, Target.ratioAtMost(1.1)),
    PING_PONG_P99("64 B ping-pong round trip p99", "µs", Better.LOWER, Scope.ALL_PATHS),
    HTTP_P50("new connection + HTTP GET p50", "ms", Better.LOWER, Scope.ALL_PATHS, Target.valueAtMost(1.0, "ms")),
    HTTP_P99("new connection + HTTP GET p99", "ms", Better.LOWER, Scope.ALL_PATHS),
    // The client side of each tunnel: the ssh process, or the docktunnel JVM (both do the same job).
    CPU_PER_GBIT_1("client CPU per Gbit, 1 stream", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS),
    CPU_PER_GBIT_4("client CPU per Gbit, 4 streams", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS),
    CPU_PER_GBIT_REVERSE("client CPU per Gbit, reverse", "CPU-s/Gbit", Better.LOWER, Scope.TUNNELS),
    START_P50("container start → local port accepting p50", "ms", Better.LOWER, Scope.DOCKTUNNEL),
    START_P99("container start → local port accepting p99", "ms", Better.LOWER, Scope.DOCKTUNNEL,
            Target.valueAtMost(100, "ms")),
    RSS_IDLE("docktunnel RSS idle", "MiB", Better.LOWER, Scope.DOCKTUNNEL, Target.valueAtMost(96, "MiB")),
    RSS_LOAD("docktunnel RSS max under load", "MiB", Better.LOWER, Scope.DOCKTUNNEL, Target.valueAtMost(160, "MiB")),
    THREADS_IDLE("docktunnel threads idle", "threads", Better.LOWER, Scope.DOCKTUNNEL),
    THREADS_LOAD("docktunnel threads max under load", "threads", Better.LOWER, Scope.DOCKTUNNEL),
    // The local Docker socket (issue 9): the real docker CLI, one process per command.
    DOCKER_PS_P50("docker ps p50", "ms", Better.LOWER, Scope.DOCKER_ALL,
            Target.ratioAtMost(1.2, "ssh -L socket"),
            Target.fasterThan(10, DockerPath.DOCKER_SSH, "docker -H ssh://")),
    DOCKER_PS_P99("docker ps p99", "ms", Better.LOWER, Scope.DOCKER_ALL),
    DOCKER_SAVE("docker save of a " + BulkImage.SIZE_MIB + " MiB image", "MiB/s", Better.HIGHER,
            Scope.DOCKER_SOCKETS, Target.ratioAtLeast(1.0, "ssh -L socket"));

    enum Better { HIGHER, LOWER }

    /** The two halves of the benchmark; {@code --only} runs one of them. */
    enum Group {
        /** Forwarded ports (issue 3), ratios against {@code ssh -N -L} aes128-gcm. */
        PORTS(BenchPath.BASELINE, BenchPath.DOCKTUNNEL),
        /** The local Docker socket (issue 9), ratios against the {@code ssh -L} socket forward. */
        DOCKER(DockerPath.BASELINE, DockerPath.DOCKTUNNEL);

        /** The path every ratio of this group is against. */
        final String baseline;
        /** docktunnel's path in this group: the one the targets judge. */
        final String docktunnel;

        Group(String baseline, String docktunnel) {
            this.baseline = baseline;
            this.docktunnel = docktunnel;
        }
    }

    /** Which paths a measure applies to. */
    enum Scope {
        ALL_PATHS(Group.PORTS), TUNNELS(Group.PORTS), DOCKTUNNEL(Group.PORTS),
        /** Every Docker socket path, {@code docker -H ssh://} included. */
        DOCKER_ALL(Group.DOCKER),
        /** The socket paths only (direct, the {@code ssh -L} forward, docktunnel): not {@code docker -H ssh://}. */
        DOCKER_SOCKETS(Group.DOCKER);

        final Group group;

        Scope(Group group) {
            this.group = group;
        }
    }

    /**
     * A target from the issue, judged on docktunnel's median: either its ratio against another
     * path of the same run ({@code versus}; null: the group's baseline), or its absolute value.
     * A {@code speedup} target is shown as "N× faster" (the inverse of the ratio).
     */
    record Target(String text, boolean onRatio, boolean atLeast, double bound, String versus, boolean speedup) {
        static Target ratioAtLeast(double bound) {
            return ratioAtLeast(bound, "ssh -N -L");
        }

        static Target ratioAtLeast(double bound, String baselineName) {
            return new Target("≥ " + bound + "× " + baselineName, true, true, bound, null, false);
        }

        static Target ratioAtMost(double bound) {
            return ratioAtMost(bound, "ssh -N -L");
        }

        static Target ratioAtMost(double bound, String baselineName) {
            return new Target("≤ " + bound + "× " + baselineName, true, false, bound, null, false);
        }

        static Target valueAtMost(double bound, String unit) {
            return new Target("≤ " + BenchReport.number(bound) + " " + unit, false, false, bound, null, false);
        }

        /** docktunnel's value at most 1/{@code times} of path {@code versus}'s (a latency {@code times}× lower). */
        static Target fasterThan(double times, String versus, String versusName) {
            return new Target("≥ " + BenchReport.number(times) + "× faster than " + versusName, true, false,
                    1 / times, versus, true);
        }

        boolean met(double value) {
            return atLeast ? value >= bound : value <= bound;
        }
    }

    final String label;
    final String unit;
    final Better better;
    final Scope scope;
    final List<Target> targets;

    Measure(String label, String unit, Better better, Scope scope, Target... targets) {
        this.label = label;
        this.unit = unit;
        this.better = better;
        this.scope = scope;
        this.targets = List.of(targets);
    }

    /** The measure's name in the JSON: {@code throughput-1}, {@code ping-pong-p50}, ... */
    String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    Group group() {
        return scope.group;
    }

    /** The path of the same run this measure's ratios are against. */
    String baseline() {
        return scope.group.baseline;
    }

    boolean appliesTo(MeasuredPath path) {
        return switch (scope) {
            case ALL_PATHS -> path instanceof BenchPath;
            case TUNNELS -> path instanceof BenchPath p && p.client() != null;
            case DOCKTUNNEL -> path instanceof BenchPath p && p.id().equals(BenchPath.DOCKTUNNEL);
            case DOCKER_ALL -> path instanceof DockerPath;
            case DOCKER_SOCKETS -> path instanceof DockerPath p && !p.id().equals(DockerPath.DOCKER_SSH);
        };
    }
}
