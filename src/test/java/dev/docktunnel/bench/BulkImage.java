package dev.docktunnel.bench;

import dev.docktunnel.testbed.Testbed;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The image the {@code docker save} row moves: one layer holding {@link #SIZE_MIB} MiB of random
 * bytes (nothing on the way compresses it), made with {@code docker import} on the testbed's
 * dockerd directly, so no path under test carries the upload.
 */
final class BulkImage {

    static final String IMAGE = "dt-bulk:latest";
    static final int SIZE_MIB = 200;
    private static final int MIB = 1 << 20;

    private BulkImage() {
    }

    /** Writes the payload and its tar under the testbed's work dir, imports it, deletes both. */
    static void build(Testbed testbed) {
        Path dir = testbed.workDir().resolve("bulk-rootfs");
        Path tar = testbed.workDir().resolve("bulk-rootfs.tar");
        try {
            Files.createDirectories(dir);
            Path payload = dir.resolve("payload.bin");
            SplittableRandom random = new SplittableRandom(9); // any seed: only incompressibility matters
            byte[] chunk = new byte[MIB];
            try (OutputStream out = Files.newOutputStream(payload)) {
                for (int i = 0; i < SIZE_MIB; i++) {
                    for (int j = 0; j < chunk.length; j += 8) {
                        long word = random.nextLong();
                        for (int k = 0; k < 8; k++) {
                            chunk[j + k] = (byte) (word >>> (8 * k));
                        }
                    }
                    out.write(chunk);
                }
            }
            testbed.exec(List.of(HostTools.find("tar"), "--owner=0", "--group=0", "--numeric-owner",
                    "-C", dir.toString(), "-cf", tar.toString(), "."), Duration.ofSeconds(120)).orThrow();
            Files.delete(payload);
            testbed.docker("import", tar.toString(), IMAGE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the " + SIZE_MIB + " MiB image: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tar);
            } catch (IOException e) {
                Benchmark.log("could not delete %s: %s", tar, e.getMessage());
            }
        }
    }
}
