package dev.docktunnel.ssh;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.CancellationException;
import org.apache.sshd.client.future.AuthFuture;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;

/**
 * Adapts MINA's futures to Vert.x futures completed on a given context: MINA calls listeners on
 * its own threads, and verticle state must only be touched on the verticle's context.
 */
final class MinaFutures {

  private MinaFutures() {
  }

  /** Completes with the session once the TCP connection is up (before key exchange). */
  static Future<ClientSession> connected(Context context, ConnectFuture future) {
    Promise<ClientSession> promise = Promise.promise();
    future.addListener(f -> {
      ClientSession session = f.isConnected() ? f.getClientSession() : null;
      Throwable error = session == null ? cause(f.getException(), f.isCanceled(), "connect") : null;
      context.runOnContext(v -> complete(promise, session, error));
    });
    return promise.future();
  }

  /** Completes when authentication succeeded. */
  static Future<Void> authenticated(Context context, AuthFuture future) {
    Promise<Void> promise = Promise.promise();
    future.addListener(f -> {
      Throwable error = f.isSuccess() ? null : cause(f.getException(), f.isCanceled(), "authentication");
      context.runOnContext(v -> complete(promise, null, error));
    });
    return promise.future();
  }

  /** Completes when a channel is open. */
  static Future<Void> opened(Context context, OpenFuture future) {
    Promise<Void> promise = Promise.promise();
    future.addListener(f -> {
      Throwable error = f.isOpened() ? null : cause(f.getException(), f.isCanceled(), "channel open");
      context.runOnContext(v -> complete(promise, null, error));
    });
    return promise.future();
  }

  private static <T> void complete(Promise<T> promise, T value, Throwable error) {
    if (error == null) {
      promise.tryComplete(value);
    } else {
      promise.tryFail(error);
    }
  }

  private static Throwable cause(Throwable error, boolean canceled, String what) {
    if (error != null) {
      return error;
    }
    return canceled ? new CancellationException(what + " cancelled") : new IllegalStateException(what + " failed");
  }
}
