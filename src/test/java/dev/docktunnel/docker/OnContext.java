package dev.docktunnel.docker;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs client calls on one Vert.x context from a test thread, as a verticle would make them. */
final class OnContext {
  private final Context context;
  private final Duration timeout;

  OnContext(Context context, Duration timeout) {
    this.context = context;
    this.timeout = timeout;
  }

  /** Runs the call on the context, checks it completes there too, and waits for its result. */
  <T> T await(Supplier<Future<T>> call) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> call.get().onComplete(ar -> {
      if (Vertx.currentContext() != context) {
        result.completeExceptionally(new AssertionError("completed off the caller's context"));
      } else if (ar.succeeded()) {
        result.complete(ar.result());
      } else {
        result.completeExceptionally(ar.cause());
      }
    }));
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** The failure the call ends with; an assertion error if it succeeds. */
  Throwable failure(Supplier<Future<?>> call) throws Exception {
    try {
      await(call::get);
    } catch (Exception e) {
      return e;
    }
    throw new AssertionError("expected a failure");
  }
}
