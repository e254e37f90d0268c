package dev.docktunnel.docker;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.EOFException;
import java.time.Duration;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelAsyncInputStream;
import org.apache.sshd.common.future.DefaultSshFuture;
import org.apache.sshd.common.io.IoInputStream;
import org.apache.sshd.common.io.IoReadFuture;
import org.apache.sshd.common.io.ReadPendingException;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * Fixes for gaps in MINA SSHD's async ({@code Streaming.Async}) client channels, shared by every
 * channel type docktunnel opens ({@code direct-streamlocal@openssh.com} here, {@code direct-tcpip}
 * in the forward proxy).
 *
 * <p>Use all three together:
 * <pre>{@code
 * class EofAwareDirectTcpip extends ChannelDirectTcpip {
 *   ...
 *   @Override public void handleEof() throws IOException {
 *     super.handleEof();
 *     SshChannels.completePendingReadOnEof(this);
 *   }
 * }
 * IoReadFuture f = SshChannels.read(channel.getAsyncOut(), new ByteArrayBuffer(32 * 1024));
 * SshChannels.closeGracefully(channel, vertx, Duration.ofSeconds(5));
 * }</pre>
 */
public final class SshChannels {
  private SshChannels() {
  }

  /**
   * Completes a pending (or the next) async read with end-of-stream once the peer sent
   * SSH_MSG_CHANNEL_EOF. Call it from an overridden {@code handleEof()} after {@code super}.
   *
   * <p>Why: MINA's {@code AbstractChannel.handleEof()} only records the EOF; a read pending on
   * {@code ChannelAsyncInputStream} stays pending until the peer also sends CHANNEL_CLOSE, and
   * OpenSSH sends that only after <em>our</em> side closed too — so a half-closed remote socket
   * would hang the reader. Closing the async input stream immediately is MINA's own way to end it
   * ({@code ChannelAsyncInputStream.preClose}): a pending read on an empty buffer completes with
   * {@link EOFException}; bytes already buffered are still handed out by later reads, then EOF.
   * The channel itself stays open, so our direction can still be written and half-closed.
   */
  public static void completePendingReadOnEof(ClientChannel channel) {
    IoInputStream out = channel.getAsyncOut();
    if (out != null) {
      out.close(true);
    }
  }

  /**
   * Reads from an async channel stream without the risk of hanging on a stream that is closing.
   *
   * <p>Why: {@code ChannelAsyncInputStream.read} tests "closing" before it registers the pending
   * read, and {@code preClose} completes only an already registered read. A close that slips in
   * between leaves the read pending forever. A read that is still pending while the stream is
   * closing can only have found an empty buffer (buffered bytes complete it at once), and a
   * closing stream gets no more bytes, so completing it with EOF here is exactly what
   * {@code preClose} would have done. Setting a value twice is a no-op in MINA's futures.
   *
   * <p>Reading again after end of stream yields end of stream again (MINA itself would throw
   * {@code ReadPendingException}).
   *
   * @param in  the channel's {@code getAsyncOut()}
   * @param buf where the bytes go; at most its free capacity is read
   * @return the read future; {@link IoReadFuture#getException()} is an {@link EOFException} at end
   *     of stream
   */
  public static IoReadFuture read(IoInputStream in, Buffer buf) {
    IoReadFuture future;
    try {
      future = in.read(buf);
    } catch (ReadPendingException e) {
      if (!in.isClosing()) {
        throw e; // two reads at once: a caller bug
      }
      // MINA keeps the read it ended with EOF registered as "pending", so any read after EOF
      // throws; answer it with EOF again instead.
      ChannelAsyncInputStream.IoReadFutureImpl eof =
          new ChannelAsyncInputStream.IoReadFutureImpl(in, buf);
      eof.setValue(new EOFException("Closed"));
      return eof;
    }
    if (!future.isDone() && in.isClosing() && future instanceof DefaultSshFuture<?> settable) {
      settable.setValue(new EOFException("Closed"));
    }
    return future;
  }

  /**
   * Closes a channel the polite way, with a bounded fallback: {@code close(false)} sends
   * SSH_MSG_CHANNEL_CLOSE and waits for the peer's (MINA's {@code close(true)} sends nothing, so
   * the remote end would keep its socket open); if the peer has not answered within
   * {@code fallbackAfter} the channel is closed immediately.
   *
   * @return completes (on the caller's context) once the channel is closed either way; never fails
   */
  public static Future<Void> closeGracefully(Channel channel, Vertx vertx, Duration fallbackAfter) {
    Context context = vertx.getOrCreateContext();
    Promise<Void> closed = Promise.promise();
    if (channel.isClosed()) {
      closed.complete();
      return closed.future();
    }
    long timer = vertx.setTimer(Math.max(1, fallbackAfter.toMillis()), id -> channel.close(true));
    channel.close(false).addListener(f -> context.runOnContext(v -> {
      vertx.cancelTimer(timer);
      closed.tryComplete();
    }));
    return closed.future();
  }
}
