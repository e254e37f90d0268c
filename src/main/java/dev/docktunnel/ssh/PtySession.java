package dev.docktunnel.ssh;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.BooleanSupplier;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.session.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session's PTY channel. OpenSSH's sshd sets TCP_NODELAY only on connections with a PTY;
 * without one, small replies through forwards wait ~40 ms for Nagle. Its failure is a WARN, not
 * fatal: the session works, only forwarded connections may be slower.
 */
final class PtySession {
  private static final Logger LOG = LoggerFactory.getLogger(PtySession.class);
  /**
   * The command: it just sits, reading a terminal nobody writes to. With it, OpenSSH 9.2 on
   * loopback answered two-write replies through a forward in 1.5 ms (p50) instead of 44 ms.
   */
  static final String COMMAND = "cat";
  private static final String EFFECT = "forwarded connections may see ~40 ms Nagle delays";

  private PtySession() {
  }

  /**
   * Opens the PTY channel on {@code session}; completes on {@code context} once it is open or
   * its failure was logged. A later close is a WARN while {@code stillWanted} holds.
   *
   * @param where the target as shown in logs
   */
  static Future<Void> open(ClientSession session, Context context, String where, BooleanSupplier stillWanted) {
    ChannelExec channel;
    try {
      channel = session.createExecChannel(COMMAND);
    } catch (IOException e) {
      LOG.warn("PTY session on {} not created ({}); {}", where, e.getMessage(), EFFECT);
      return Future.succeededFuture();
    }
    channel.setUsePty(true);
    channel.setOut(OutputStream.nullOutputStream());
    channel.setErr(OutputStream.nullOutputStream());
    try {
      return MinaFutures.opened(context, channel.open())
          .map(v -> {
            channel.addCloseFutureListener(f -> context.runOnContext(x -> {
              if (stillWanted.getAsBoolean()) {
                LOG.warn("PTY session on {} closed (exit status {}); the server may stop setting TCP_NODELAY, {} "
                    + "until the next reconnect", where, channel.getExitStatus(), EFFECT);
              }
            }));
            return (Void) null;
          })
          .recover(err -> {
            LOG.warn("PTY session on {} not opened ({}); {}", where, err.getMessage(), EFFECT);
            channel.close(true);
            return Future.succeededFuture();
          });
    } catch (IOException e) {
      LOG.warn("PTY session on {} not opened ({}); {}", where, e.getMessage(), EFFECT);
      return Future.succeededFuture();
    }
  }
}
