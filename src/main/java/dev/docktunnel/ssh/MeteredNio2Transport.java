package dev.docktunnel.ssh;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.io.nio2.Nio2CompletionHandler;
import org.apache.sshd.common.io.nio2.Nio2Service;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactory;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactoryFactory;
import org.apache.sshd.common.io.nio2.Nio2Session;
import org.apache.sshd.common.util.Readable;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * MINA's NIO2 transport with a byte meter on every socket: {@link LinkLiveness} needs to know
 * whether anything arrived from the server, and MINA's own idle timer is reset by writes too.
 * Counting costs two atomic adds per socket read or write.
 */
final class MeteredNio2Transport extends Nio2ServiceFactoryFactory {

  /** Cumulative bytes through one SSH socket. Thread-safe. */
  static final class LinkMeter {
    private final AtomicLong in = new AtomicLong();
    private final AtomicLong out = new AtomicLong();

    long inBytes() {
      return in.get();
    }

    long outBytes() {
      return out.get();
    }
  }

  /** The meter of a session created by this transport, or null for any other session. */
  static LinkMeter meterOf(IoSession session) {
    return session instanceof MeteredSession metered ? metered.meter : null;
  }

  @Override
  public IoServiceFactory create(FactoryManager manager) {
    return new Nio2ServiceFactory(manager, newExecutor(), newExecutor()) {
      @Override
      public Nio2Session createSession(Nio2Service service, IoHandler handler, AsynchronousSocketChannel socket,
          SocketAddress acceptanceAddress) throws Throwable {
        return new MeteredSession(service, manager, handler, socket, acceptanceAddress);
      }
    };
  }

  private static final class MeteredSession extends Nio2Session {
    final LinkMeter meter = new LinkMeter();

    MeteredSession(Nio2Service service, FactoryManager manager, IoHandler handler, AsynchronousSocketChannel socket,
        SocketAddress acceptanceAddress) throws IOException {
      super(service, manager, handler, socket, acceptanceAddress);
    }

    @Override
    public IoWriteFuture writeBuffer(Buffer buffer) throws IOException {
      meter.out.addAndGet(buffer.available());
      return super.writeBuffer(buffer);
    }

    @Override
    protected void handleReadCycleCompletion(ByteBuffer buffer, Readable bufReader,
        Nio2CompletionHandler<Integer, Object> completionHandler, Integer result, Object attachment) {
      if (result != null && result > 0) {
        meter.in.addAndGet(result);
      }
      super.handleReadCycleCompletion(buffer, bufReader, completionHandler, result, attachment);
    }
  }
}
