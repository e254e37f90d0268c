package dev.docktunnel.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link AuthPlan} for each connection attempt. Keys loaded once are kept in memory
 * (until their file changes), so a reconnect does not ask for a passphrase again; a key whose
 * passphrase prompt failed is not prompted for again (the terminal may be unattended by then).
 * Blocking (reads files, may prompt): call from a worker thread, one call at a time.
 */
public final class IdentityPlanner {

  /** The default key files, in OpenSSH's order (DSA is long gone). */
  static final List<String> DEFAULT_KEY_FILES = List.of("id_ed25519", "id_ecdsa", "id_rsa");

  private static final Logger LOG = LoggerFactory.getLogger(IdentityPlanner.class);

  private record Cached(FileTime modified, List<KeyPair> keys) {
  }

  private final List<Path> explicitFiles;
  private final List<Path> configFiles;
  private final Path sshDir;
  private final Supplier<Optional<Path>> agentSocket;
  private final KeyFileLoader prompting;
  private final KeyFileLoader silent = new KeyFileLoader(null);
  private final Map<Path, Cached> cache = new HashMap<>();
  /** Files whose passphrase prompt failed, with the modification time they had then. */
  private final Map<Path, FileTime> promptFailed = new HashMap<>();
  /** The last problem logged per file. */
  private final Map<Path, String> reported = new HashMap<>();

  /**
   * @param explicitFiles {@code --identity} files, in order
   * @param configFiles the SSH config's IdentityFile entries for the target, in order
   * @param sshDir the directory holding the default keys (normally {@code ~/.ssh})
   * @param agentSocket the ssh-agent socket, looked up on every attempt (an agent may appear)
   * @param loader loads key files; decides whether passphrases can be asked for
   */
  public IdentityPlanner(List<Path> explicitFiles, List<Path> configFiles, Path sshDir,
      Supplier<Optional<Path>> agentSocket, KeyFileLoader loader) {
    this.explicitFiles = List.copyOf(explicitFiles);
    this.configFiles = List.copyOf(configFiles);
    this.sshDir = sshDir;
    this.agentSocket = agentSocket;
    this.prompting = loader;
  }

  /** Loads what is loadable now and reports the rest as problems. */
  public AuthPlan plan() {
    List<String> problems = new ArrayList<>();
    List<AuthPlan.FileKey> fileKeys = new ArrayList<>();
    Set<Path> listed = new LinkedHashSet<>();
    for (Path file : explicitFiles) {
      if (listed.add(file.toAbsolutePath().normalize())) {
        load(file, "--identity", true, fileKeys, problems);
      }
    }
    for (Path file : configFiles) {
      if (listed.add(file.toAbsolutePath().normalize())) {
        // OpenSSH is quiet about configured IdentityFiles that do not exist; so are we.
        load(file, "IdentityFile", Files.exists(file), fileKeys, problems);
      }
    }
    List<AuthPlan.FileKey> defaultKeys = new ArrayList<>();
    if (sshDir != null) {
      for (String name : DEFAULT_KEY_FILES) {
        Path file = sshDir.resolve(name);
        if (Files.exists(file) && listed.add(file.toAbsolutePath().normalize())) {
          load(file, "default key", true, defaultKeys, problems);
        }
      }
    }
    return new AuthPlan(fileKeys, agentSocket.get(), defaultKeys, problems);
  }

  private void load(Path file, String origin, boolean reportMissing, List<AuthPlan.FileKey> into,
      List<String> problems) {
    try {
      // Before the cache: a chmod does not change the modification time.
      KeyFileLoader.checkProtected(file);
      FileTime modified = Files.getLastModifiedTime(file);
      Cached cached = cache.get(file);
      if (cached == null || !cached.modified().equals(modified)) {
        cached = new Cached(modified, loadFresh(file, modified));
        cache.put(file, cached);
      }
      for (KeyPair pair : cached.keys()) {
        into.add(new AuthPlan.FileKey(file, pair));
      }
      reported.remove(file);
    } catch (java.nio.file.NoSuchFileException e) {
      if (reportMissing) {
        problems.add(origin + " " + file + " does not exist");
      }
    } catch (IOException e) {
      // Attempts repeat; warn once per distinct problem, not once per attempt.
      if (!e.getMessage().equals(reported.put(file, e.getMessage()))) {
        LOG.warn("{} {} skipped: {}", origin, file, e.getMessage());
      }
      problems.add(e.getMessage());
    }
  }

  private List<KeyPair> loadFresh(Path file, FileTime modified) throws IOException {
    boolean mayPrompt = prompting.canPrompt() && !modified.equals(promptFailed.get(file));
    if (!mayPrompt) {
      try {
        return silent.load(file);
      } catch (KeyFileLoader.EncryptedKeyException e) {
        if (prompting.canPrompt()) {
          throw new KeyFileLoader.EncryptedKeyException("private key " + file + " is encrypted and "
              + "its passphrase was not given earlier; load it into ssh-agent (ssh-add " + file
              + ") or restart docktunnel to be asked again");
        }
        throw e;
      }
    }
    try {
      return prompting.load(file);
    } catch (IOException e) {
      promptFailed.put(file, modified);
      throw e;
    }
  }
}
