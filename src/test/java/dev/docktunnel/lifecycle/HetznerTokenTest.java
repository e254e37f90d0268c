package dev.docktunnel.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.DocktunnelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the Hetzner token comes from, and what is refused. */
class HetznerTokenTest {

  @TempDir
  Path dir;

  @Test
  void theEnvironmentVariableWinsOverTheFile() throws Exception {
    Path file = tokenFile("from-file", "rw-------");

    HetznerToken token = HetznerToken.read(settings(file), Map.of("HCLOUD_TOKEN", " from-env\n"));

    assertEquals("from-env", token.value());
    assertEquals("$HCLOUD_TOKEN", token.source());
  }

  @Test
  void aBlankVariableFallsBackToTheFile() throws Exception {
    Path file = tokenFile("from-file\n", "r--------");

    HetznerToken token = HetznerToken.read(settings(file), Map.of("HCLOUD_TOKEN", "  "));

    assertEquals("from-file", token.value());
    assertEquals(file.toString(), token.source());
  }

  @Test
  void aFileGroupCanReadIsRefused() throws Exception {
    Path file = tokenFile("secret", "rw-r-----");

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> HetznerToken.read(settings(file), Map.of()));

    assertEquals("lifecycle.hetzner.tokenFile " + file + " is accessible by others (rw-r-----); refusing to use it:"
        + " chmod 600 " + file, e.getMessage());
  }

  @Test
  void anEmptyFileOrOneWithMoreThanTheTokenIsRefused() throws Exception {
    Path empty = tokenFile("\n", "rw-------");
    assertEquals("lifecycle.hetzner.tokenFile " + empty + " is empty",
        assertThrows(IllegalStateException.class, () -> HetznerToken.read(settings(empty), Map.of())).getMessage());
    Path two = tokenFile("HCLOUD_TOKEN=abc def", "rw-------");
    assertTrue(assertThrows(IllegalStateException.class, () -> HetznerToken.read(settings(two), Map.of()))
        .getMessage().endsWith("holds more than one word; it must hold the API token only"));
  }

  @Test
  void neitherVariableNorFileSaysWhatToSet() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> HetznerToken.read(settings(null), Map.of()));

    assertTrue(e.getMessage().startsWith("no Hetzner API token: set the environment variable $HCLOUD_TOKEN or"
        + " lifecycle.hetzner.tokenFile"), e.getMessage());
  }

  @Test
  void toStringNeverShowsTheToken() throws Exception {
    HetznerToken token = HetznerToken.read(settings(null), Map.of("HCLOUD_TOKEN", "s3cr3t-value"));

    assertFalse(token.toString().contains("s3cr3t"), token.toString());
  }

  private Path tokenFile(String text, String mode) throws Exception {
    Path file = Files.createTempFile(dir, "token", "");
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  private static DocktunnelConfig.Hetzner settings(Path tokenFile) {
    return new DocktunnelConfig.Hetzner("https://api.hetzner.cloud/v1", "HCLOUD_TOKEN", tokenFile, "dt", "cx22",
        "fsn1", "docker-ce", "laptop", "dt-docker", "volume");
  }
}
