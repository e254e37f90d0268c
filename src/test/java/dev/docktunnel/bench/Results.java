package dev.docktunnel.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one run measured: per measure and path, one value per repetition (or one value for the
 * one-shot docktunnel measures), the errors of measurements that produced no number, and the
 * raw samples behind the values. Thread-safe: the resource sampler reports from its own thread.
 */
final class Results {

    /** Median and range of one measure on one path. */
    record Summary(double median, double min, double max, int count) {
    }

    private final List<BenchPath> paths;
    private final List<DockerPath> dockerPaths;
    private final Map<Measure, Map<String, List<Double>>> values = new EnumMap<>(Measure.class);
    private final Map<Measure, Map<String, List<String>>> errors = new EnumMap<>(Measure.class);
    /** Raw samples: {@code iperf3} runs, latency histograms per path and repetition, start latencies. */
    private final JsonObject raw = new JsonObject()
            .put("iperf3Runs", new JsonArray())
            .put("pingPongMicros", new JsonObject())
            .put("httpMicros", new JsonObject())
            .put("startLatencyMillis", new JsonArray())
            .put("resourceSamples", new JsonObject())
            .put("dockerPsMicros", new JsonObject())
            .put("dockerSaveRuns", new JsonArray());

    /** The port paths and the Docker socket paths; either list is empty when its group does not run. */
    Results(List<BenchPath> paths, List<DockerPath> dockerPaths) {
        this.paths = List.copyOf(paths);
        this.dockerPaths = List.copyOf(dockerPaths);
    }

    /** The port paths (forwarded ports). */
    List<BenchPath> paths() {
        return paths;
    }

    List<DockerPath> dockerPaths() {
        return dockerPaths;
    }

    /** Every row's path: the port paths, then the Docker socket paths. */
    List<MeasuredPath> allPaths() {
        List<MeasuredPath> all = new ArrayList<>(paths);
        all.addAll(dockerPaths);
        return all;
    }

    /** The paths {@code measure} applies to in this run, in table order. */
    List<MeasuredPath> pathsOf(Measure measure) {
        return allPaths().stream().filter(measure::appliesTo).toList();
    }

    synchronized void add(Measure measure, String pathId, double value) {
        values.computeIfAbsent(measure, m -> new LinkedHashMap<>())
                .computeIfAbsent(pathId, p -> new ArrayList<>()).add(value);
    }

    synchronized void fail(Measure measure, String pathId, String message) {
        errors.computeIfAbsent(measure, m -> new LinkedHashMap<>())
                .computeIfAbsent(pathId, p -> new ArrayList<>()).add(message);
    }

    synchronized List<Double> values(Measure measure, String pathId) {
        return List.copyOf(values.getOrDefault(measure, Map.of()).getOrDefault(pathId, List.of()));
    }

    synchronized List<String> errors(Measure measure, String pathId) {
        return List.copyOf(errors.getOrDefault(measure, Map.of()).getOrDefault(pathId, List.of()));
    }

    /** The summary of a measure on a path, or null when it produced no number. */
    synchronized Summary summary(Measure measure, String pathId) {
        List<Double> v = values(measure, pathId);
        if (v.isEmpty()) {
            return null;
        }
        return new Summary(Stats.median(v), v.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                v.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), v.size());
    }

    /** Median of the path over the median of its group's baseline, or null when either is missing. */
    synchronized Double ratio(Measure measure, String pathId) {
        return ratio(measure, pathId, measure.baseline());
    }

    /** Median of the path over the median of {@code versusId}, or null when either is missing. */
    synchronized Double ratio(Measure measure, String pathId, String versusId) {
        Summary own = summary(measure, pathId);
        Summary base = summary(measure, versusId);
        if (own == null || base == null || base.median() == 0) {
            return null;
        }
        return own.median() / base.median();
    }

    /** The value a target is judged on (a ratio or docktunnel's median), or null when missing. */
    synchronized Double targetValue(Measure measure, Measure.Target target) {
        String docktunnel = measure.group().docktunnel;
        if (target.onRatio()) {
            return ratio(measure, docktunnel, target.versus() == null ? measure.baseline() : target.versus());
        }
        Summary s = summary(measure, docktunnel);
        return s == null ? null : s.median();
    }

    /** {@code measure/path} for every applicable cell without a number; empty when all were measured. */
    synchronized List<String> missing() {
        List<String> missing = new ArrayList<>();
        for (Measure measure : Measure.values()) {
            for (MeasuredPath path : allPaths()) {
                if (measure.appliesTo(path) && values(measure, path.id()).isEmpty()) {
                    List<String> why = errors(measure, path.id());
                    missing.add(measure.id() + "/" + path.id() + (why.isEmpty() ? "" : ": " + why.get(0)));
                }
            }
        }
        return missing;
    }

    synchronized void addRaw(String key, Object sample) {
        raw.getJsonArray(key).add(sample);
    }

    /** Appends one repetition's histogram under {@code key} → path. */
    synchronized void addRawPerPath(String key, String pathId, Object sample) {
        JsonObject byPath = raw.getJsonObject(key);
        JsonArray list = byPath.getJsonArray(pathId);
        if (list == null) {
            list = new JsonArray();
            byPath.put(pathId, list);
        }
        list.add(sample);
    }

    synchronized void putRaw(String key, String name, Object value) {
        raw.getJsonObject(key).put(name, value);
    }

    synchronized JsonObject rawCopy() {
        return raw.copy();
    }
}
