package dev.docktunnel.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.state.StateDir.StateDirException;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirTest {

  private static final HostId HOST = new HostId("root-box-22-0123abcd");

  @TempDir Path tmp;

  @Test
  void createsTheStateDirAndTheSocketFolderPrivate() throws IOException {
    Path dir = tmp.resolve("home/.docktunnel");
    StateDir stateDir = StateDir.open(dir, HOST);
    assertEquals("rwx------", mode(dir));
    assertEquals("rwx------", mode(dir.resolve("root-box-22-0123abcd")));
    assertEquals(dir.resolve("root-box-22-0123abcd.state.json"), stateDir.stateFile());
    assertEquals(dir.resolve("root-box-22-0123abcd.lock"), stateDir.lockFile());
    assertEquals(dir.resolve("root-box-22-0123abcd"), stateDir.socketDir());
  }

  @Test
  void theDockerSocketIsDockerSockInTheSocketFolderWithOrWithoutOpening() throws IOException {
    Path dir = tmp.resolve("state");
    Path expected = dir.toAbsolutePath().resolve("root-box-22-0123abcd/docker.sock");
    assertEquals(expected, StateDir.dockerSocketIn(dir.toAbsolutePath(), HOST));
    assertTrue(Files.notExists(dir), "dockerSocketIn only names the path");
    StateDir stateDir = StateDir.open(dir, HOST);
    assertEquals(expected, stateDir.dockerSocket());
    assertEquals(stateDir.socketDir().resolve(StateDir.DOCKER_SOCKET), stateDir.dockerSocket());
    assertFalse(Files.exists(stateDir.dockerSocket()), "open makes the folder, not the socket (the daemon binds it)");
  }

  @Test
  void narrowsAWiderModeOnDirsItOwns() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("state"));
    Path sockets = Files.createDirectory(dir.resolve(HOST.value()));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(sockets, PosixFilePermissions.fromString("rwxrwxrwx"));
    StateDir.open(dir, HOST);
    assertEquals("rwx------", mode(dir));
    assertEquals("rwx------", mode(sockets));
  }

  @Test
  void refusesASymlinkNamingIt() throws IOException {
    Path real = Files.createDirectory(tmp.resolve("real"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
    StateDirException e = assertThrows(StateDirException.class, () -> StateDir.open(link, HOST));
    assertTrue(e.getMessage().contains(link.toString()) && e.getMessage().contains("symlink"), e.getMessage());
  }

  @Test
  void refusesAFileNamingIt() throws IOException {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    StateDirException e = assertThrows(StateDirException.class, () -> StateDir.open(file, HOST));
    assertTrue(e.getMessage().contains(file + " exists but is not a directory"), e.getMessage());
  }

  @Test
  void refusesASocketFolderThatIsASymlink() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("state"));
    Files.createSymbolicLink(dir.resolve(HOST.value()), Files.createDirectory(tmp.resolve("elsewhere")));
    StateDirException e = assertThrows(StateDirException.class, () -> StateDir.open(dir, HOST));
    assertTrue(e.getMessage().startsWith("Socket folder " + dir.resolve(HOST.value()) + " is a symlink"),
        e.getMessage());
  }

  @Test
  void refusesASocketFolderThatIsAFile() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("state"));
    Path file = Files.writeString(dir.resolve(HOST.value()), "x");
    StateDirException e = assertThrows(StateDirException.class, () -> StateDir.open(dir, HOST));
    assertEquals("Socket folder " + file + " exists but is not a directory", e.getMessage());
  }

  @Test
  void opensAnExistingStateDirAgain() throws IOException {
    Path dir = tmp.resolve("state");
    StateDir.open(dir, HOST);
    StateDir again = StateDir.open(dir, HOST);
    assertEquals(dir, again.dir());
    assertEquals("rwx------", mode(dir));
  }

  @Test
  void refusesADirOwnedByAnotherUser() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("theirs"));
    Files.setOwner(dir, nobody());
    StateDirException e = assertThrows(StateDirException.class, () -> StateDir.open(dir, HOST));
    assertTrue(e.getMessage().contains(dir + " is owned by nobody"), e.getMessage());
  }

  @Test
  void removesOnlyLeftoverSocketsOfOurs() throws IOException {
    StateDir stateDir = StateDir.open(tmp.resolve("state"), HOST);
    Path sockets = stateDir.socketDir();
    Path ours = socket(sockets.resolve("docker.sock"));
    Path theirs = socket(sockets.resolve("theirs.sock"));
    Files.setOwner(theirs, nobody());
    Path regular = Files.writeString(sockets.resolve("notes.sock"), "keep me");
    Path target = socket(tmp.resolve("outside.sock"));
    Path link = Files.createSymbolicLink(sockets.resolve("link.sock"), target);
    Path subdir = Files.createDirectory(sockets.resolve("sub"));

    assertEquals(1, stateDir.removeLeftoverSockets());

    assertFalse(Files.exists(ours, LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.exists(theirs, LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.exists(regular));
    assertTrue(Files.isSymbolicLink(link));
    assertTrue(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.isDirectory(subdir));
    assertEquals(0, stateDir.removeLeftoverSockets());
  }

  /** A socket file as a crashed run leaves it: bound, then the process gone without unlinking. */
  private static Path socket(Path path) throws IOException {
    try (ServerSocketChannel server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(path));
    }
    return path;
  }

  private static UserPrincipal nobody() throws IOException {
    return java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }
}
