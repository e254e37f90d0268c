package dev.docktunnel.docker;

import dev.docktunnel.ssh.SessionProvider;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.io.IoReadFuture;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;

/**
 * Connections to the remote engine socket as {@code direct-streamlocal@openssh.com} channels on
 * the current SSH session. MINA completes its futures on its own I/O threads; every result hops
 * back onto the Vert.x context that asked.
 */
final class SshEngineConnector implements EngineConnector {
  /** Bytes per read; also bounds how much we hold per read (the SSH window holds the rest). */
  private static final int READ_CHUNK = 32 * 1024;
  private static final Duration CLOSE_FALLBACK = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final SessionProvider sessions;
  private final String socketPath;
  private final Duration openTimeout;

  SshEngineConnector(Vertx vertx, SessionProvider sessions, String socketPath,
                     Duration openTimeout) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    this.openTimeout = Objects.requireNonNull(openTimeout, "openTimeout");
  }

  @Override
  public String describe() {
    return "unix:" + socketPath + " over SSH";
  }

  @Override
  public Future<EngineConnection> connect() {
    Context context = vertx.getOrCreateContext();
    ClientSession session = sessions.current().orElse(null);
    if (session == null || !session.isOpen()) {
      sessions.wake(); // a Docker request is waiting: reconnect now rather than at the next backoff step
      return Future.failedFuture(new DockerEngineException(
          "cannot reach the Docker engine: the SSH session is not connected"));
    }
    DirectStreamLocalChannel channel = null;
    OpenFuture opening;
    try {
      channel = DirectStreamLocalChannel.create(session, socketPath);
      opening = channel.open();
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        channel.close(true); // registered but never opened: nothing to tell the server
      }
      return Future.failedFuture(new DockerEngineException(
          "cannot open a channel to " + describe() + ": " + e.getMessage(), e));
    }
    DirectStreamLocalChannel opened = channel;
    Promise<EngineConnection> promise = Promise.promise();
    long timer = vertx.setTimer(openTimeout.toMillis(), id -> {
      if (promise.tryFail(new DockerEngineException("opening a channel to " + describe()
          + " timed out after " + openTimeout.toMillis() + " ms"))) {
        // Polite close: sends CHANNEL_CLOSE if the server confirmed meanwhile.
        SshChannels.closeGracefully(opened, vertx, CLOSE_FALLBACK);
      }
    });
    opening.addListener(f -> context.runOnContext(v -> {
      vertx.cancelTimer(timer);
      if (f.isOpened()) {
        if (!promise.tryComplete(new ChannelConnection(opened, context))) {
          SshChannels.closeGracefully(opened, vertx, CLOSE_FALLBACK); // the caller gave up
        }
      } else {
        promise.tryFail(openFailure(f.getException()));
      }
    }));
    return promise.future();
  }

  private DockerEngineException openFailure(Throwable cause) {
    String why = cause == null ? "unknown reason" : cause.getMessage();
    if (cause instanceof SshChannelOpenException) {
      return new DockerEngineException("the SSH server refused a channel to " + describe() + ": "
          + why + " (check the remote Docker socket path, that the SSH user may open it, and"
          + " that sshd allows stream-local forwarding: AllowStreamLocalForwarding)", cause);
    }
    return new DockerEngineException("opening a channel to " + describe() + " failed: " + why,
        cause);
  }

  /** One open channel, read and written through MINA's async streams. */
  private final class ChannelConnection implements EngineConnection {
    private final DirectStreamLocalChannel channel;
    private final Context context;
    private final AtomicBoolean closed = new AtomicBoolean();
    private Future<Void> closing;

    ChannelConnection(DirectStreamLocalChannel channel, Context context) {
      this.channel = channel;
      this.context = context;
    }

    @Override
    public Future<Void> write(Buffer data) {
      Promise<Void> promise = Promise.promise();
      try {
        channel.getAsyncIn().writeBuffer(new ByteArrayBuffer(data.getBytes()))
            .addListener(f -> context.runOnContext(v -> {
              if (f.isWritten()) {
                promise.complete();
              } else {
                promise.fail(new DockerEngineException("writing to " + describe() + " failed: "
                    + messageOf(f.getException()), f.getException()));
              }
            }));
      } catch (IOException | RuntimeException e) {
        context.runOnContext(v -> promise.fail(new DockerEngineException(
            "writing to " + describe() + " failed: " + e.getMessage(), e)));
      }
      return promise.future();
    }

    @Override
    public Future<Buffer> read() {
      Promise<Buffer> promise = Promise.promise();
      ByteArrayBuffer target = new ByteArrayBuffer(READ_CHUNK, false);
      IoReadFuture reading;
      try {
        reading = SshChannels.read(channel.getAsyncOut(), target);
      } catch (RuntimeException e) {
        context.runOnContext(v -> promise.fail(new DockerEngineException(
            "reading from " + describe() + " failed: " + e.getMessage(), e)));
        return promise.future();
      }
      reading.addListener(f -> {
        Throwable error = f.getException();
        Buffer bytes = null;
        if (error == null) {
          org.apache.sshd.common.util.buffer.Buffer got = f.getBuffer();
          bytes = Buffer.buffer(got.getCompactData());
        }
        Buffer result = bytes;
        context.runOnContext(v -> {
          if (error == null) {
            promise.complete(result);
          } else if (error instanceof EOFException) {
            promise.complete(null);
          } else {
            promise.fail(new DockerEngineException("reading from " + describe() + " failed: "
                + messageOf(error), error));
          }
        });
      });
      return promise.future();
    }

    @Override
    public Future<Void> close() {
      if (closed.compareAndSet(false, true)) {
        closing = SshChannels.closeGracefully(channel, vertx, CLOSE_FALLBACK);
      }
      return closing;
    }
  }

  private static String messageOf(Throwable t) {
    return t == null ? "unknown error" : t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
