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
    private final Map<Measure, Map<String, List<Double>>> values = new EnumMap<>(Measure.class);
    private final Map<Measure, Map<String, List<String>>> errors = new EnumMap<>(Measure.class);
    /** Raw samples: {@code iperf3} runs, latency histograms per path and repetition, start latencies. */
    private final JsonObject raw = new JsonObject()
            .put("iperf3Runs", new JsonArray())
            .put("pingPongMicros", new JsonObject())
            .put("httpMicros", new JsonObject())
            .put("startLatencyMillis", new JsonArray())
            .put("resourceSamples", new JsonObject());

    Results(List<BenchPath> paths) {
        this.paths = List.copyOf(paths);
    }

    List<BenchPath> paths() {
        return paths;
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

    /** Median of the path over median of {@code ssh -N -L} (aes128-gcm), or null when either is missing. */
    synchronized Double ratio(Measure measure, String pathId) {
        Summary own = summary(measure, pathId);
        Summary base = summary(measure, BenchPath.BASELINE);
        if (own == null || base == null || base.median() == 0) {
            return null;
        }
        return own.median() / base.median();
    }

    /** The value a target is judged on (ratio or docktunnel's median), or null when missing. */
    synchronized Double targetValue(Measure measure) {
        if (measure.target == null) {
            return null;
        }
        if (measure.target.onRatio()) {
            return ratio(measure, BenchPath.DOCKTUNNEL);
        }
        Summary s = summary(measure, BenchPath.DOCKTUNNEL);
        return s == null ? null : s.median();
    }

    /** {@code measure/path} for every applicable cell without a number; empty when all were measured. */
    synchronized List<String> missing() {
        List<String> missing = new ArrayList<>();
        for (Measure measure : Measure.values()) {
            for (BenchPath path : paths) {
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
