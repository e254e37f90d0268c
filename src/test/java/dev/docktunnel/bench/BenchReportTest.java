package dev.docktunnel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The report's arithmetic on made-up results: each group's baseline, the targets, --only. */
class BenchReportTest {

    private static final List<DockerPath> DOCKER_PATHS = List.of(
            new DockerPath(DockerPath.DIRECT, "direct socket (no SSH)", "", "unix:///d", null),
            new DockerPath(DockerPath.SSH_SOCKET, "ssh -N -L socket aes128-gcm", "", "unix:///s", null),
            new DockerPath(DockerPath.DOCKER_SSH, "docker -H ssh://", "", "ssh://root@h:22", null),
            new DockerPath(DockerPath.DOCKTUNNEL, "docktunnel socket", "", "unix:///t", null));

    private static BenchReport report(Results results, Set<Measure.Group> groups) {
        BenchOptions quick = BenchOptions.quick(Path.of("target", "x.json"), BenchOptions.DEFAULT_JAR);
        BenchOptions options = new BenchOptions(quick.mode(), quick.out(), quick.jar(), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                1, groups);
        return BenchReport.of(options, new JsonObject().put("nproc", 2), results, Instant.EPOCH, Instant.EPOCH);
    }

    @Test
    void dockerRowsAreJudgedAgainstTheSocketForwardAndDockerOverSsh() {
        Results results = new Results(List.of(), DOCKER_PATHS);
        results.add(Measure.DOCKER_PS_P50, DockerPath.DIRECT, 20);
        results.add(Measure.DOCKER_PS_P50, DockerPath.SSH_SOCKET, 25);
        results.add(Measure.DOCKER_PS_P50, DockerPath.DOCKER_SSH, 300);
        results.add(Measure.DOCKER_PS_P50, DockerPath.DOCKTUNNEL, 27.5);

        assertEquals(1.1, results.ratio(Measure.DOCKER_PS_P50, DockerPath.DOCKTUNNEL), 1e-9);
        Measure.Target atMost = Measure.DOCKER_PS_P50.targets.get(0);
        Measure.Target faster = Measure.DOCKER_PS_P50.targets.get(1);
        assertTrue(atMost.met(results.targetValue(Measure.DOCKER_PS_P50, atMost)));
        assertEquals(27.5 / 300, results.targetValue(Measure.DOCKER_PS_P50, faster), 1e-9);
        assertTrue(faster.met(results.targetValue(Measure.DOCKER_PS_P50, faster)), "10.9× faster meets ≥ 10×");

        results.add(Measure.DOCKER_PS_P50, DockerPath.DOCKTUNNEL, 40.5); // median now 34 ms: 8.8× faster
        assertFalse(faster.met(results.targetValue(Measure.DOCKER_PS_P50, faster)));
        assertTrue(report(results, Set.of(Measure.Group.DOCKER)).table()
                .contains("≥ 10× faster than docker -H ssh://  ✗ (8.82× faster)"));
    }

    @Test
    void onlyDockerReportsNoPortRowsAndMissesOnlyDockerCells() {
        Results results = new Results(List.of(), DOCKER_PATHS);
        for (DockerPath path : DOCKER_PATHS) {
            results.add(Measure.DOCKER_PS_P50, path.id(), 20);
            results.add(Measure.DOCKER_PS_P99, path.id(), 30);
        }
        results.add(Measure.DOCKER_SAVE, DockerPath.DIRECT, 150);
        results.add(Measure.DOCKER_SAVE, DockerPath.SSH_SOCKET, 100);
        results.fail(Measure.DOCKER_SAVE, DockerPath.DOCKTUNNEL, DockerSocketRows.NO_SOCKET + " at /x");

        assertEquals(List.of("docker-save/docktunnel-socket: " + DockerSocketRows.NO_SOCKET + " at /x"),
                results.missing(), "docker save is not measured through docker -H ssh://");
        BenchReport report = report(results, Set.of(Measure.Group.DOCKER));
        assertFalse(report.table().contains("iperf3"), report.table());
        JsonArray measures = report.json().getJsonArray("measures");
        assertEquals(3, measures.size(), measures.encodePrettily());
        JsonObject save = measures.getJsonObject(2);
        assertEquals(DockerPath.SSH_SOCKET, save.getString("baseline"));
        assertEquals(1.5, save.getJsonObject("paths").getJsonObject(DockerPath.DIRECT).getDouble("ratioToBaseline"));
        assertNull(save.getJsonArray("targets").getJsonObject(0).getBoolean("met"));
    }

    @Test
    void onlyTakesPortsOrDocker() {
        assertEquals(Set.of(Measure.Group.DOCKER), BenchOptions.parse(List.of("--quick", "--only", "docker")).groups());
        assertEquals(BenchOptions.ALL_GROUPS, BenchOptions.parse(List.of("--quick")).groups());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchOptions.parse(List.of("--only", "sockets")));
        assertTrue(e.getMessage().startsWith("--only takes ports or docker, not sockets"), e.getMessage());
    }
}
