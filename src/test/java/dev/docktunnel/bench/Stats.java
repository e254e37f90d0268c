package dev.docktunnel.bench;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Percentiles and summaries; plain arithmetic, no interpolation surprises. */
final class Stats {

    private Stats() {
    }

    /** Nearest-rank percentile of unsorted samples (p in 0..100); the samples are not modified. */
    static double percentile(long[] samples, double p) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Nearest-rank percentile of unsorted double samples. */
    static double percentile(List<Double> samples, double p) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        List<Double> sorted = new ArrayList<>(samples);
        sorted.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    /** The median (mean of the middle two for an even count). */
    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * Nanosecond samples as a lossless-at-1-µs histogram {@code [[µs, count], ...]}: all raw
     * samples of a repetition in a few hundred pairs instead of tens of thousands of numbers.
     */
    static JsonArray microsecondHistogram(long[] nanos) {
        Map<Long, Integer> counts = new TreeMap<>();
        for (long n : nanos) {
            counts.merge(Math.round(n / 1_000.0), 1, Integer::sum);
        }
        JsonArray histogram = new JsonArray();
        counts.forEach((micros, count) -> histogram.add(new JsonArray().add(micros).add(count)));
        return histogram;
    }
}
