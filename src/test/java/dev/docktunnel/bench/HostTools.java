package dev.docktunnel.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Absolute paths of host tools, from the Debian system dirs only (as the testbed does). */
final class HostTools {
    private static final List<String> DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");

    private HostTools() {
    }

    /** The tool's path; throws naming where it looked (and the Debian package for iperf3). */
    static String find(String name) {
        List<String> tried = new ArrayList<>();
        for (String dir : DIRS) {
            Path candidate = Path.of(dir, name);
            tried.add(candidate.toString());
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException(name + " not found (looked at " + String.join(", ", tried) + ")"
                + (name.equals("iperf3") ? ": install the Debian package iperf3 (bin/test does)" : ""));
    }

    /** The tool's path, or null when it is not installed. */
    static String findOrNull(String name) {
        for (String dir : DIRS) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return null;
    }
}
