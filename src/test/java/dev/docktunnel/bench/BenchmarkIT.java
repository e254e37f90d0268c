package dev.docktunnel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The benchmark's quick mode, so it never rots: every measure on every path it applies to must
 * produce a number for docktunnel (its forwarded ports and its local Docker socket), and the JSON
 * must be written. The reference paths ({@code ssh -L}, direct, {@code docker -H ssh://}) are
 * retried once and never fail CI: their transient failures on a busy machine say nothing about
 * docktunnel. No performance threshold here: targets are judged by people reading the table
 * (bench/README.md).
 */
class BenchmarkIT {

    @Test
    @Timeout(value = 7, unit = TimeUnit.MINUTES)
    void quickModeMeasuresEverythingAndWritesTheJson() throws Exception {
        Path out = Path.of("target", "bench", "quick-it.json");
        Files.deleteIfExists(out);
        boolean hasDockerSocket = buildHasDockerSocket(BenchOptions.DEFAULT_JAR);

        BenchReport report = Benchmark.run(BenchOptions.quick(out, BenchOptions.DEFAULT_JAR));

        List<String> ownMissing = report.missing().stream()
                .filter(cell -> cell.contains("/" + BenchPath.DOCKTUNNEL)) // docktunnel and docktunnel-socket
                .filter(cell -> hasDockerSocket || !cell.contains(DockerSocketRows.NO_SOCKET))
                .toList();
        assertEquals(List.of(), ownMissing, "docktunnel measures without a number:\n" + report.table());
        if (!hasDockerSocket) {
            System.err.println("BenchmarkIT: this build has no local Docker socket (docktunnel --help lists no "
                    + "docker-env): its rows were allowed to say so instead of a number");
        }
        assertTrue(Files.isRegularFile(out), "no JSON at " + out.toAbsolutePath());
        JsonObject json = new JsonObject(Files.readString(out));
        assertEquals("quick", json.getString("mode"));
        assertEquals(Measure.values().length, json.getJsonArray("measures").size());
        assertTrue(json.getJsonObject("machine").getInteger("nproc") > 0, json.getJsonObject("machine").encode());
    }

    /**
     * Whether the jar has issue 9's local Docker socket: its help lists the {@code docker-env}
     * command (a name the contract fixes). From then on, a docktunnel socket row without
     * a number fails this test like any other docktunnel row.
     */
    private static boolean buildHasDockerSocket(Path jar) throws IOException, InterruptedException {
        Process help = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toAbsolutePath().toString(), "--help")
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(help.waitFor(60, TimeUnit.SECONDS), "docktunnel --help did not finish");
        assertEquals(0, help.exitValue(), "docktunnel --help failed:\n" + text);
        return text.lines().anyMatch(line -> line.matches("\\s+docker-env\\b.*"));
    }
}
