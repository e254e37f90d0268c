package dev.docktunnel.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-install token: made once, private, read back the same, matched only as a whole bearer header. */
class ApiTokenTest {
  @TempDir
  Path tmp;

  @Test
  void madeOncePrivateAndReadBackTheSame() throws Exception {
    Path dir = tmp.resolve("fresh").resolve("state");
    ApiToken made = ApiToken.loadOrCreate(dir);
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(ApiToken.FILE_NAME))));
    assertTrue(made.text().length() >= 43, "32 random bytes, base64: " + made.text());
    assertEquals(made.text(), ApiToken.loadOrCreate(dir).text());
    assertEquals(made.text(), ApiToken.read(dir).text());
    assertNotEquals(made.text(), ApiToken.loadOrCreate(tmp.resolve("other")).text(), "per install");
  }

  @Test
  void matchesOnlyTheWholeBearerHeader() throws Exception {
    ApiToken token = ApiToken.loadOrCreate(tmp);
    String text = token.text();
    assertTrue(token.matchesHeader("Bearer " + text));
    assertFalse(token.matchesHeader(null));
    assertFalse(token.matchesHeader(text));
    assertFalse(token.matchesHeader("bearer " + text));
    assertFalse(token.matchesHeader("Bearer " + text.substring(1)));
    assertFalse(token.matchesHeader("Bearer " + text + "A"));
    assertFalse(token.matchesHeader("Bearer "));
  }

  @Test
  void aMissingOrEmptyTokenIsAnErrorNamingTheFile() throws Exception {
    IOException missing = assertThrows(IOException.class, () -> ApiToken.read(tmp));
    assertTrue(missing.getMessage().contains(tmp.resolve(ApiToken.FILE_NAME).toString()), missing.getMessage());
    Path file = Files.createFile(tmp.resolve(ApiToken.FILE_NAME), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    IOException empty = assertThrows(IOException.class, () -> ApiToken.read(tmp));
    assertTrue(empty.getMessage().contains(file + " is empty"), empty.getMessage());
  }
}
