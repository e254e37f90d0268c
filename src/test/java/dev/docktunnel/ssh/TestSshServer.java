package dev.docktunnel.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

/**
 * MINA's own SSH server on 127.0.0.1 for unit tests: a fixed host key, a public-key
 * authenticator that records every key it is asked about, and an exec handler that records
 * commands and whether they came with a PTY ({@code cat} just sits until closed).
 */
final class TestSshServer implements AutoCloseable {

  /** One exec request the server saw. */
  record Exec(String command, boolean pty, String term) {
  }

  final KeyPair hostKey;
  final List<PublicKey> offeredKeys = new CopyOnWriteArrayList<>();
  final AtomicInteger authRequests = new AtomicInteger();
  final List<Exec> execs = new CopyOnWriteArrayList<>();
  volatile Predicate<PublicKey> accept = key -> false;
  private SshServer sshd;
  private int port;

  TestSshServer(KeyPair hostKey) {
    this.hostKey = hostKey;
  }

  /** Accepts exactly these keys. */
  TestSshServer accepting(PublicKey... keys) {
    accept = offered -> {
      for (PublicKey key : keys) {
        if (KeyUtils.compareKeys(key, offered)) {
          return true;
        }
      }
      return false;
    };
    return this;
  }

  /** Starts on {@code port} (0: any free port) and returns the port. */
  int start(int port) throws IOException {
    sshd = SshServer.setUpDefaultServer();
    sshd.setHost("127.0.0.1");
    sshd.setPort(port);
    sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    sshd.setPublickeyAuthenticator((user, key, session) -> {
      authRequests.incrementAndGet();
      offeredKeys.add(key);
      return "tester".equals(user) && accept.test(key);
    });
    sshd.setPasswordAuthenticator((user, password, session) -> {
      authRequests.incrementAndGet();
      return false;
    });
    sshd.setCommandFactory((channel, command) -> new SittingCommand(command));
    sshd.start();
    this.port = sshd.getPort();
    return this.port;
  }

  int port() {
    return port;
  }

  /** Stops the server and drops every session at once, like a host going away. */
  void stop() throws IOException {
    if (sshd != null) {
      sshd.stop(true);
      sshd = null;
    }
  }

  @Override
  public void close() throws IOException {
    stop();
  }

  /** Records the exec and sits until its channel closes, like {@code cat} on a quiet TTY. */
  private final class SittingCommand implements Command {
    private final String command;
    private InputStream in;
    private ExitCallback exit;

    SittingCommand(String command) {
      this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
    }

    @Override
    public void setErrorStream(OutputStream err) {
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
      Map<String, String> vars = env.getEnv();
      execs.add(new Exec(command, !env.getPtyModes().isEmpty() || vars.containsKey(Environment.ENV_TERM),
          vars.get(Environment.ENV_TERM)));
      Thread reader = new Thread(() -> {
        try {
          while (in.read() >= 0) {
            // discard
          }
        } catch (IOException e) {
          // channel closed
        }
        exit.onExit(0);
      }, "test-sshd-cat");
      reader.setDaemon(true);
      reader.start();
    }

    @Override
    public void destroy(ChannelSession channel) {
    }
  }
}
