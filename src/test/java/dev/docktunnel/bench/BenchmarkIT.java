package dev.docktunnel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The benchmark's quick mode, so it never rots: every measure on every path it applies to must
 * produce a number for docktunnel, and the JSON must be written. The reference paths ({@code ssh
 * -L}, direct) are retried once and never fail CI: their transient failures on a busy machine say
 * nothing about docktunnel. No performance threshold here: targets are judged by people reading
 * the table (bench/README.md).
 */
class BenchmarkIT {

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void quickModeMeasuresEverythingAndWritesTheJson() throws Exception {
        Path out = Path.of("target", "bench", "quick-it.json");
        Files.deleteIfExists(out);

        BenchReport report = Benchmark.run(BenchOptions.quick(out, BenchOptions.DEFAULT_JAR));

        List<String> ownMissing = report.missing().stream()
                .filter(cell -> cell.contains("/" + BenchPath.DOCKTUNNEL))
                .toList();
        assertEquals(List.of(), ownMissing, "docktunnel measures without a number:\n" + report.table());
        assertTrue(Files.isRegularFile(out), "no JSON at " + out.toAbsolutePath());
        JsonObject json = new JsonObject(Files.readString(out));
        assertEquals("quick", json.getString("mode"));
        assertEquals(Measure.values().length, json.getJsonArray("measures").size());
        assertTrue(json.getJsonObject("machine").getInteger("nproc") > 0, json.getJsonObject("machine").encode());
    }
}
