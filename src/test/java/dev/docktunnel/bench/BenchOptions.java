package dev.docktunnel.bench;

import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * How much to measure: the two modes and their sizes, where the JSON goes, which jar runs.
 *
 * @param mode               quick (one short repetition, CI) or full (for people)
 * @param out                the JSON result file
 * @param jar                the shipped fat jar, run as users run it
 * @param repetitions        interleaved repetitions of every per-path measure
 * @param iperfSeconds       {@code iperf3 -t} of each measured run
 * @param warmupIperfSeconds one discarded iperf3 run per path before the first repetition (JIT, windows)
 * @param pingPongRoundTrips measured 64-byte round trips per path and repetition
 * @param pingPongWarmup     discarded round trips before them, on the same connection
 * @param httpRequests       measured connect + GET + EOF cycles per path and repetition
 * @param httpWarmup         discarded cycles before them
 * @param startContainers    containers started one by one for start → accepting latency
 * @param dockerPsRuns       measured {@code docker ps} per Docker socket path and repetition
 * @param dockerPsWarmup     discarded {@code docker ps} per path before them (first repetition only)
 * @param dockerApiWarmup    discarded connections with {@code GET /_ping} per socket path before those
 * @param groups             what runs: the forwarded-port rows, the Docker socket rows, or both ({@code --only})
 */
record BenchOptions(Mode mode, Path out, Path jar, int repetitions, int iperfSeconds, int warmupIperfSeconds,
                    int pingPongRoundTrips, int pingPongWarmup, int httpRequests, int httpWarmup,
                    int startContainers, int dockerPsRuns, int dockerPsWarmup, int dockerApiWarmup,
                    Set<Measure.Group> groups) {

    enum Mode { QUICK, FULL }

    static final Path DEFAULT_JAR = Path.of("target", "docktunnel.jar");
    static final Set<Measure.Group> ALL_GROUPS = Collections.unmodifiableSet(EnumSet.allOf(Measure.Group.class));

    static final String USAGE = String.join("\n",
            "usage: Benchmark [--quick | --full] [--only ports|docker] [--out FILE] [--jar FILE] [--repetitions N]",
            "                 [--seconds N]",
            "  --full      5 interleaved repetitions, 10 s iperf3 runs, 100 containers (default; ~25 min)",
            "  --quick     one short repetition, 10 containers (~2 min; what CI runs)",
            "  --only ports   only the forwarded-port rows (iperf3, ping-pong, HTTP, start latency, RSS)",
            "  --only docker  only the local Docker socket rows (docker ps, docker save; ~40 s in quick mode)",
            "  --out FILE  JSON results (default: bench/results/<UTC date-time>.json in full mode,",
            "              target/bench/quick-<UTC date-time>.json in quick mode)",
            "  --jar FILE  the docktunnel fat jar (default target/docktunnel.jar)",
            "  --repetitions N, --seconds N",
            "              override the mode's repetitions and iperf3 -t (e.g. to try one lever quickly)",
            "Runs as root: it builds a network namespace with sshd and dockerd (the testbed).");

    static BenchOptions quick(Path out, Path jar) {
        return new BenchOptions(Mode.QUICK, out, jar, 1, 1, 3, 1_000, 200, 20, 3, 10, 20, 10, 1_000, ALL_GROUPS);
    }

    static BenchOptions full(Path out, Path jar) {
        // Warm-ups are long enough for a JVM to reach steady state on that path (per-connection
        // code is compiled after a few thousand connections); every path gets the same.
        return new BenchOptions(Mode.FULL, out, jar, 5, 10, 10, 10_000, 5_000, 200, 3_000, 100, 100, 50, 3_000, ALL_GROUPS);
    }

    /** Parses the command line; throws {@link IllegalArgumentException} with the usage for a bad one. */
    static BenchOptions parse(List<String> args) {
        Mode mode = Mode.FULL;
        Path out = null;
        Path jar = DEFAULT_JAR;
        Integer repetitions = null;
        Integer seconds = null;
        Set<Measure.Group> groups = ALL_GROUPS;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--quick" -> mode = Mode.QUICK;
                case "--full" -> mode = Mode.FULL;
                case "--out" -> out = Path.of(valueOf(args, ++i, arg));
                case "--jar" -> jar = Path.of(valueOf(args, ++i, arg));
                case "--repetitions" -> repetitions = positive(valueOf(args, ++i, arg), arg);
                case "--seconds" -> seconds = positive(valueOf(args, ++i, arg), arg);
                case "--only" -> groups = group(valueOf(args, ++i, arg));
                default -> throw new IllegalArgumentException("unknown argument: " + arg + "\n" + USAGE);
            }
        }
        if (out == null) {
            out = defaultOut(mode);
        }
        BenchOptions o = mode == Mode.QUICK ? quick(out, jar) : full(out, jar);
        return new BenchOptions(o.mode, o.out, o.jar, repetitions == null ? o.repetitions : repetitions,
                seconds == null ? o.iperfSeconds : seconds, o.warmupIperfSeconds, o.pingPongRoundTrips,
                o.pingPongWarmup, o.httpRequests, o.httpWarmup, o.startContainers, o.dockerPsRuns, o.dockerPsWarmup,
                o.dockerApiWarmup, groups);
    }

    boolean runs(Measure.Group group) {
        return groups.contains(group);
    }

    private static Set<Measure.Group> group(String value) {
        return switch (value) {
            case "ports" -> Set.of(Measure.Group.PORTS);
            case "docker" -> Set.of(Measure.Group.DOCKER);
            default -> throw new IllegalArgumentException("--only takes ports or docker, not " + value + "\n" + USAGE);
        };
    }

    private static int positive(String value, String option) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " needs a positive whole number, not " + value + "\n" + USAGE);
    }

    /** Full runs are kept in the repo's bench/results; quick runs stay in target/ and never litter it. */
    static Path defaultOut(Mode mode) {
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss'Z'"));
        return mode == Mode.FULL
                ? Path.of("bench", "results", stamp + ".json")
                : Path.of("target", "bench", "quick-" + stamp + ".json");
    }

    private static String valueOf(List<String> args, int index, String option) {
        if (index >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
        }
        return args.get(index);
    }
}
