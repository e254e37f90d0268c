package dev.docktunnel.testbed;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the host tools the testbed needs, and fails loudly (never skips) when one is missing:
 * CI must not go green by running no integration test.
 */
final class Prerequisites {

    /** Absolute paths of the tools, resolved once. */
    record Tools(
            Path sshd, Path ssh, Path sshKeygen, Path dockerd, Path containerd, Path dockerCli, Path busybox,
            Path ip, Path nsenter, Path setsid, Path unshare, Path umount, Path tar, Path bash) {
    }

    private Prerequisites() {
    }

    static Tools check() {
        List<String> problems = new ArrayList<>();
        Set<String> packages = new LinkedHashSet<>();
        if (!isRoot()) {
            problems.add("the tests must run as root (they create network namespaces and start dockerd); "
                    + "run bin/test as root");
        }
        Map<String, Path> found = new LinkedHashMap<>();
        require(found, problems, packages, "sshd", "openssh-server");
        require(found, problems, packages, "ssh", "openssh-client");
        require(found, problems, packages, "ssh-keygen", "openssh-client");
        require(found, problems, packages, "dockerd", "docker.io");
        require(found, problems, packages, "containerd", "containerd");
        require(found, problems, packages, "containerd-shim-runc-v2", "containerd");
        require(found, problems, packages, "runc", "runc");
        require(found, problems, packages, "docker-proxy", "docker.io");
        require(found, problems, packages, "ip", "iproute2");
        require(found, problems, packages, "ss", "iproute2"); // Faults: ss -K kills live connections
        require(found, problems, packages, "iptables", "iptables");
        require(found, problems, packages, "nsenter", "util-linux");
        require(found, problems, packages, "setsid", "util-linux");
        require(found, problems, packages, "unshare", "util-linux"); // sshd without the host's shell rc files
        require(found, problems, packages, "umount", "mount");
        require(found, problems, packages, "tar", "tar");
        require(found, problems, packages, "bash", "bash");
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            problems.add("/bin/busybox is missing (Debian package busybox-static)");
            packages.add("busybox-static");
        } else if (!isStaticElf(busybox)) {
            problems.add("/bin/busybox is dynamically linked; the container image needs the static one "
                    + "(Debian package busybox-static, which replaces busybox)");
            packages.add("busybox-static");
        }
        // The docker.io client matches the daemon's API; any other `docker` on PATH is a fallback.
        Path dockerCli = Files.isExecutable(Path.of("/usr/bin/docker")) ? Path.of("/usr/bin/docker")
                : which("docker", System.getenv("PATH")).orElse(null);
        if (dockerCli == null) {
            problems.add("the docker CLI is missing (Debian package docker.io)");
            packages.add("docker.io");
        }
        if (!problems.isEmpty()) {
            throw new TestbedException("docktunnel testbed cannot start; prerequisites missing:\n  - "
                    + String.join("\n  - ", problems)
                    + (packages.isEmpty() ? "" : "\nInstall them with: apt-get install -y --no-install-recommends "
                            + String.join(" ", packages))
                    + "\n(bin/test installs them automatically when run as root.)");
        }
        return new Tools(found.get("sshd"), found.get("ssh"), found.get("ssh-keygen"), found.get("dockerd"),
                found.get("containerd"), dockerCli, busybox, found.get("ip"), found.get("nsenter"),
                found.get("setsid"), found.get("unshare"), found.get("umount"), found.get("tar"), found.get("bash"));
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException ignored) {
            // no /proc: not a Linux host we can use
        }
        return false;
    }

    private static void require(Map<String, Path> found, List<String> problems, Set<String> packages,
                                String tool, String debianPackage) {
        Optional<Path> path = which(tool, Processes.SYSTEM_PATH);
        if (path.isPresent()) {
            found.put(tool, path.get());
        } else {
            problems.add(tool + " is missing (Debian package " + debianPackage + ")");
            packages.add(debianPackage);
        }
    }

    static Optional<Path> which(String tool, String searchPath) {
        if (searchPath == null) {
            return Optional.empty();
        }
        for (String dir : searchPath.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** An ELF file without a PT_INTERP program header needs no dynamic loader, i.e. runs in an empty rootfs. */
    static boolean isStaticElf(Path file) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            byte[] ident = new byte[64];
            raf.readFully(ident);
            if (ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F' || ident[4] != 2) {
                return false; // not a 64-bit ELF
            }
            ByteBuffer header = ByteBuffer.wrap(ident)
                    .order(ident[5] == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
            long programHeaderOffset = header.getLong(0x20);
            int entrySize = Short.toUnsignedInt(header.getShort(0x36));
            int entryCount = Short.toUnsignedInt(header.getShort(0x38));
            byte[] entry = new byte[4];
            for (int i = 0; i < entryCount; i++) {
                raf.seek(programHeaderOffset + (long) i * entrySize);
                raf.readFully(entry);
                int type = ByteBuffer.wrap(entry).order(header.order()).getInt();
                if (type == 3) { // PT_INTERP
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
