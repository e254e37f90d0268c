package dev.docktunnel.bench;

import dev.docktunnel.testbed.Testbed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An iperf3 server image for the testbed's dockerd, made without a registry: {@code docker
 * import} of a rootfs holding the host's /usr/bin/iperf3 (Debian package iperf3) and the shared
 * libraries {@code ldd} lists for it.
 */
final class IperfImage {

    static final String IMAGE = "dt-iperf3:latest";
    static final int CONTAINER_PORT = 5201;

    private IperfImage() {
    }

    /** Builds the rootfs from the host's iperf3 under the testbed's work dir and imports it. */
    static void build(Testbed testbed, Path iperf3) {
        Path rootfs = testbed.workDir().resolve("iperf3-rootfs");
        try {
            Files.createDirectories(rootfs.resolve("usr/bin"));
            // iperf3 keeps its send buffer in a temp file under /tmp.
            Files.createDirectories(rootfs.resolve("tmp"));
            Files.setPosixFilePermissions(rootfs.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.writeString(Files.createDirectories(rootfs.resolve("etc")).resolve("passwd"),
                    "root:x:0:0:root:/root:/bin/false\n");
            copyResolved(iperf3, rootfs.resolve("usr/bin/iperf3"));
            for (String library : sharedLibraries(testbed, iperf3)) {
                // Copied to the same path (e.g. /lib/x86_64-linux-gnu/libc.so.6) with the content
                // of the file the symlink points to: the loader finds it where ldd did.
                copyResolved(Path.of(library), rootfs.resolve(library.substring(1)));
            }
            Path tar = testbed.workDir().resolve("iperf3-rootfs.tar");
            testbed.exec(List.of(HostTools.find("tar"), "--owner=0", "--group=0", "--numeric-owner",
                    "-C", rootfs.toString(), "-cf", tar.toString(), "."), Duration.ofSeconds(60)).orThrow();
            testbed.docker("import", "--change", "CMD [\"/usr/bin/iperf3\", \"-s\"]", tar.toString(), IMAGE);
            Files.delete(tar);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the iperf3 image: " + e.getMessage(), e);
        }
    }

    /**
     * Starts the iperf3 server published on {@code publishedPort} and waits until it listens.
     * {@code --rcv-timeout} ends a test whose client vanished, so one failed run cannot wedge
     * the server for the runs after it; {@code --forceflush} makes "Server listening" visible.
     */
    static String runServer(Testbed testbed, String name, int publishedPort) {
        String id = testbed.docker("run", "-d", "--name", name, "-p", publishedPort + ":" + CONTAINER_PORT, IMAGE,
                "/usr/bin/iperf3", "-s", "-p", Integer.toString(CONTAINER_PORT), "--rcv-timeout", "10000",
                "--forceflush").trim();
        try {
            Poll.until("iperf3 server in container " + name, Duration.ofSeconds(20), () -> {
                String logs = testbed.dockerResult("logs", id).stdout();
                if (!logs.contains("Server listening")) {
                    String state = testbed.dockerResult("inspect", "-f", "{{.State.Status}}", id).stdout().trim();
                    if (state.equals("exited") || state.equals("dead")) {
                        throw new IllegalStateException("iperf3 container exited: " + testbed.dockerResult("logs", id));
                    }
                    return false;
                }
                return true;
            });
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "; logs: " + testbed.dockerResult("logs", id), e);
        }
        return id;
    }

    /** The absolute paths {@code ldd} lists (linux-vdso has none and is skipped). */
    private static Set<String> sharedLibraries(Testbed testbed, Path binary) {
        String out = testbed.exec(List.of(HostTools.find("ldd"), binary.toString()), Duration.ofSeconds(20))
                .orThrow().stdout();
        Set<String> libraries = new LinkedHashSet<>();
        for (String line : out.lines().map(String::trim).toList()) {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
            String candidate = line.contains("=>") ? line.substring(line.indexOf("=>") + 2).trim() : line;
            candidate = candidate.split("\\s+")[0];
            if (candidate.startsWith("/")) {
                libraries.add(candidate);
            }
        }
        if (libraries.isEmpty()) {
            throw new IllegalStateException("ldd lists no libraries for " + binary + ":\n" + out);
        }
        return libraries;
    }

    private static void copyResolved(Path source, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path real = source.toRealPath();
        Files.copy(real, target);
        Files.setPosixFilePermissions(target, Files.getPosixFilePermissions(real));
    }
}
