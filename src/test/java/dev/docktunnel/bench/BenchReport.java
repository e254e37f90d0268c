package dev.docktunnel.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of one run: the printed table (each measure per path, the ratio against
 * {@code ssh -N -L} aes128-gcm of the same run, the targets with ✓/✗) and the JSON file
 * (all values per repetition, raw samples, machine info, mode, ratios).
 */
record BenchReport(BenchOptions options, JsonObject machine, Results results, Instant startedAt,
                          Instant finishedAt) {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    static BenchReport of(BenchOptions options, JsonObject machine, Results results, Instant startedAt,
                          Instant finishedAt) {
        return new BenchReport(options, machine, results, startedAt, finishedAt);
    }

    /** Every applicable measure/path without a number (with the first error); empty when complete. */
    List<String> missing() {
        return results.missing();
    }

    Path out() {
        return options.out();
    }

    // ---------------------------------------------------------------- table

    String table() {
        StringBuilder t = new StringBuilder();
        String baselineLabel = label(BenchPath.BASELINE);
        t.append(String.format("docktunnel benchmark — %s mode, %d repetition(s), %s, %d s%n",
                options.mode().name().toLowerCase(Locale.ROOT), options.repetitions(), TIME.format(startedAt),
                Duration.between(startedAt, finishedAt).toSeconds()));
        t.append(String.format("machine: %s cores (%s), kernel %s, %s, %s, %s; default cipher %s; commit %s%s%n",
                machine.getValue("nproc"), machine.getString("cpu"), machine.getString("kernel"),
                machine.getString("java"), machine.getString("openssh"), machine.getString("iperf3"),
                machine.getString("opensshDefaultCipher"), machine.getString("gitCommit"),
                Boolean.TRUE.equals(machine.getBoolean("gitDirty")) ? " (with uncommitted changes)" : ""));
        Double busy = machine.getDouble("cpuBusyBeforeStart");
        if (busy != null && busy > Benchmark.BUSY_WARNING) {
            t.append(String.format("WARNING: the CPUs were %.0f%% busy before the start (other processes); "
                    + "these numbers are not comparable with a quiet run%n", busy * 100));
        }
        List<String> baselines = new ArrayList<>();
        if (!results.paths().isEmpty()) {
            baselines.add(baselineLabel + " (port rows)");
        }
        if (!results.dockerPaths().isEmpty()) {
            baselines.add(label(DockerPath.BASELINE) + " (Docker socket rows)");
        }
        t.append(String.format("median [min–max] over repetitions; ratio = path ÷ %s of this run; "
                + "targets (issues 3, 9) are informational%n%n", String.join(" or ", baselines)));
        String row = "%-44s %11s  %-21s %8s  %s%n";
        t.append(String.format(row, "measure / path", "median", "[min–max]", "ratio", "target"));
        t.append("-".repeat(118)).append('\n');
        Measure.Group group = null;
        for (Measure measure : Measure.values()) {
            List<MeasuredPath> paths = results.pathsOf(measure);
            if (paths.isEmpty()) {
                continue; // its group did not run (--only)
            }
            if (measure.group() != group && measure.group() == Measure.Group.DOCKER) {
                t.append(String.format("-- local Docker socket: the docker CLI through each path; ratio ÷ %s --%n",
                        label(DockerPath.BASELINE)));
            }
            group = measure.group();
            t.append(measure.label).append(" (").append(measure.unit).append(", ")
                    .append(measure.better == Measure.Better.HIGHER ? "higher" : "lower").append(" is better)\n");
            for (MeasuredPath path : paths) {
                Results.Summary s = results.summary(measure, path.id());
                String value;
                String range = "";
                if (s == null) {
                    List<String> errors = results.errors(measure, path.id());
                    value = "FAILED";
                    range = errors.isEmpty() ? "" : abbreviate(errors.get(0), 60);
                } else {
                    value = number(s.median());
                    if (s.count() > 1) {
                        range = "[" + number(s.min()) + "–" + number(s.max()) + "]";
                    }
                }
                Double ratio = results.ratio(measure, path.id());
                List<String> targets = new ArrayList<>();
                if (path.id().equals(measure.group().docktunnel)) {
                    for (Measure.Target target : measure.targets) {
                        targets.add(targetCell(measure, target));
                    }
                }
                t.append(String.format(row, "  " + path.label(), value, range,
                        ratio == null ? "" : String.format(Locale.ROOT, "%.2f×", ratio),
                        String.join(";  ", targets)));
            }
        }
        int met = 0;
        int judged = 0;
        for (Measure measure : Measure.values()) {
            if (results.pathsOf(measure).isEmpty()) {
                continue;
            }
            for (Measure.Target target : measure.targets) {
                judged++;
                Double v = results.targetValue(measure, target);
                if (v != null && target.met(v)) {
                    met++;
                }
            }
        }
        t.append(String.format("%ntargets met: %d of %d%n", met, judged));
        for (Measure measure : Measure.values()) {
            for (MeasuredPath path : results.pathsOf(measure)) {
                if (results.summary(measure, path.id()) != null && !results.errors(measure, path.id()).isEmpty()) {
                    t.append(String.format("note: %s / %s: %s%n", measure.label, path.label(),
                            results.errors(measure, path.id()).get(0)));
                }
            }
        }
        List<String> missing = missing();
        if (!missing.isEmpty()) {
            t.append(String.format("NOT MEASURED (%d): %s%n", missing.size(), String.join("; ", missing)));
        }
        return t.toString();
    }

    private String targetCell(Measure measure, Measure.Target target) {
        Double v = results.targetValue(measure, target);
        if (v == null) {
            return target.text() + "  ?";
        }
        String shown = target.speedup() ? (v == 0 ? "∞" : BenchReport.number(1 / v)) + "× faster"
                : target.onRatio() ? String.format(Locale.ROOT, "%.2f×", v) : number(v);
        return target.text() + "  " + (target.met(v) ? "✓" : "✗") + " (" + shown + ")";
    }

    private String label(String pathId) {
        return results.allPaths().stream().filter(p -> p.id().equals(pathId)).map(MeasuredPath::label)
                .findFirst().orElse(pathId);
    }

    /**
     * Three significant digits or so: 12345 → "12345", 123.4 → "123", 8.214 → "8.21",
     * 0.8512 → "0.851"; counts (thread numbers) stay whole: 30 → "30".
     */
    static String number(double v) {
        double a = Math.abs(v);
        String format = a >= 100 || (a >= 1 && v == Math.rint(v)) ? "%.0f"
                : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, format, v);
    }

    private static String abbreviate(String text, int max) {
        String oneLine = text.replace('\n', ' ');
        return oneLine.length() <= max ? oneLine : oneLine.substring(0, max - 1) + "…";
    }

    // ---------------------------------------------------------------- JSON

    JsonObject json() {
        JsonObject settings = new JsonObject()
                .put("repetitions", options.repetitions())
                .put("iperfSeconds", options.iperfSeconds())
                .put("warmupIperfSeconds", options.warmupIperfSeconds())
                .put("pingPongBytes", Probes.PING_PONG_BYTES)
                .put("pingPongRoundTrips", options.pingPongRoundTrips())
                .put("pingPongWarmup", options.pingPongWarmup())
                .put("httpRequests", options.httpRequests())
                .put("httpWarmup", options.httpWarmup())
                .put("startContainers", options.startContainers())
                .put("dockerPsRuns", options.dockerPsRuns())
                .put("dockerPsWarmup", options.dockerPsWarmup())
                .put("dockerApiWarmup", options.dockerApiWarmup())
                .put("dockerSaveImageMiB", BulkImage.SIZE_MIB)
                .put("groups", new JsonArray(options.groups().stream()
                        .map(g -> g.name().toLowerCase(Locale.ROOT)).toList()))
                .put("docktunnelJvmOptions", new JsonArray(DocktunnelProcess.JVM_OPTIONS))
                .put("jar", options.jar().toString());
        JsonArray paths = new JsonArray();
        for (MeasuredPath path : results.allPaths()) {
            JsonObject p = new JsonObject().put("id", path.id()).put("label", path.label()).put("how", path.how());
            if (path instanceof DockerPath docker) {
                p.put("dockerHost", docker.dockerHost()).put("unavailable", docker.unavailable());
            }
            paths.add(p);
        }
        JsonArray measures = new JsonArray();
        for (Measure measure : Measure.values()) {
            List<MeasuredPath> applicable = results.pathsOf(measure);
            if (applicable.isEmpty()) {
                continue; // its group did not run (--only)
            }
            JsonObject byPath = new JsonObject();
            for (MeasuredPath path : applicable) {
                Results.Summary s = results.summary(measure, path.id());
                JsonObject cell = new JsonObject()
                        .put("values", new JsonArray(List.copyOf(results.values(measure, path.id()))))
                        .put("median", s == null ? null : s.median())
                        .put("min", s == null ? null : s.min())
                        .put("max", s == null ? null : s.max())
                        .put("ratioToBaseline", results.ratio(measure, path.id()));
                List<String> errors = results.errors(measure, path.id());
                if (!errors.isEmpty()) {
                    cell.put("errors", new JsonArray(List.copyOf(errors)));
                }
                byPath.put(path.id(), cell);
            }
            JsonObject m = new JsonObject().put("id", measure.id()).put("label", measure.label)
                    .put("unit", measure.unit).put("better", measure.better.name().toLowerCase(Locale.ROOT))
                    .put("group", measure.group().name().toLowerCase(Locale.ROOT))
                    .put("baseline", measure.baseline())
                    .put("paths", byPath);
            JsonArray targets = new JsonArray();
            for (Measure.Target target : measure.targets) {
                Double v = results.targetValue(measure, target);
                String versus = target.versus() == null ? measure.baseline() : target.versus();
                targets.add(new JsonObject().put("text", target.text())
                        .put("judgedOn", target.onRatio() ? measure.group().docktunnel + " ratio to " + versus
                                : measure.group().docktunnel + " median")
                        .put("value", v).put("met", v == null ? null : target.met(v)));
            }
            m.put("targets", targets);
            measures.add(m);
        }
        return new JsonObject()
                .put("benchmark", "docktunnel vs ssh -L (issues 3 and 9)")
                .put("mode", options.mode().name().toLowerCase(Locale.ROOT))
                .put("startedAt", startedAt.toString())
                .put("finishedAt", finishedAt.toString())
                .put("machine", machine)
                .put("settings", settings)
                .put("baseline", BenchPath.BASELINE)
                .put("dockerBaseline", DockerPath.BASELINE)
                .put("paths", paths)
                .put("measures", measures)
                .put("missing", new JsonArray(missing()))
                .put("raw", results.rawCopy());
    }

    /** Writes the JSON atomically (temp file, then rename) to {@link #out()}. */
    void write() {
        Path out = options.out().toAbsolutePath();
        try {
            Files.createDirectories(out.getParent());
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            Files.writeString(tmp, json().encodePrettily() + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }
}
