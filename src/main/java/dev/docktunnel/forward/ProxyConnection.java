package dev.docktunnel.forward;

import dev.docktunnel.bus.ActivityConnection;
import dev.docktunnel.ssh.SessionProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.RemoteWindow;
import org.apache.sshd.common.io.IoWriteFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One local connection (TCP, or the local Docker socket's Unix socket) piped through one SSH
 * channel ({@code direct-tcpip} or {@code direct-streamlocal}, see {@link RemoteEnd}).
 *
 * <p>Both directions are pipelined and bounded, so neither side waits for the other's round
 * trip and no buffer grows without limit:
 * <ul>
 *   <li>local → SSH: packets are written ahead up to {@link #SSH_IN_FLIGHT_LIMIT} bytes and
 *       within the remote window; Netty keeps reading into a backlog of at most
 *       {@link #LOCAL_BACKLOG_LIMIT} and pauses above it;
 *   <li>SSH → local: each packet is copied once into a socket buffer and written; its bytes go
 *       back to the SSH window only when the local write completed, so the remote sender is
 *       throttled by the local reader, never by memory.
 * </ul>
 * Half-close is passed on both ways: local FIN becomes SSH EOF after the backlog is sent, SSH
 * EOF becomes a local shutdownOutput after the pending writes. All state lives on the
 * connection's Netty event loop; MINA callbacks hop onto it.
 *
 * <p>A connection accepted while there is no session (connecting or reconnecting) is held: it
 * waits, without a thread, for the next session up to {@link ConnectionHold#timeout} and is then
 * served as if it had just arrived, or reset. While held it reads only up to
 * {@link #HELD_BACKLOG_LIMIT}: enough for a request, and reading is how a client's close shows.
 *
 * <p>A {@link ConnectionTap} sees every byte both ways and may hold back the stream to the client
 * at a byte offset (the held bytes keep their SSH window, so the remote is throttled as by a slow
 * reader); forwards use {@link ConnectionTap#NONE}.
 */
final class ProxyConnection extends ChannelInboundHandlerAdapter implements ForwardChannel.Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyConnection.class);
  /** Local bytes read ahead while SSH cannot take them; reading pauses above this. */
  private static final int LOCAL_BACKLOG_LIMIT = 256 * 1024;
  /** Bytes handed to the SSH session whose socket write has not completed yet. */
  private static final int SSH_IN_FLIGHT_LIMIT = 512 * 1024;
  /** Local bytes read ahead while the connection is held; a held connection costs little. */
  private static final int HELD_BACKLOG_LIMIT = 16 * 1024;
  /** How long a graceful SSH channel close may take before it is forced. */
  private static final long CLOSE_FALLBACK_SECONDS = 5;
  /** The originator sent for a client without an IP address (a Unix socket's). */
  private static final InetSocketAddress NO_ORIGINATOR = new InetSocketAddress("127.0.0.1", 0);

  private final SessionProvider sessions;
  private final WakeOnDemand wake;
  private final ConnectionHold hold;
  private final RemoteEnd target;
  private final ConnectionTap.Factory taps;
  private ConnectionTap tap;
  private final ForwardCounters counters;
  private final ConnectionLog log;
  private final BooleanSupplier proxyStopping;
  private String peer = "?";
  private long connBytesOut;
  private long connBytesIn;

  private DuplexChannel local;
  private ForwardChannel ssh;
  private boolean sshOpen;
  private boolean localEof;
  private boolean eofSent;
  private boolean remoteEof;
  private boolean closed;
  private boolean failed;

  /** Waiting for a session: the hold's place is taken, the timer and the waiter are set. */
  private boolean holding;
  /** Held for the server to start (the gate was closed), not yet told it runs. */
  private boolean waking;
  private long heldSince;
  private ScheduledFuture<?> holdTimer;
  private Runnable withdrawWaiter;

  private CompositeByteBuf backlog;
  private int sshBytesInFlight;
  private int localWritesInFlight;
  private boolean flushScheduled;
  /** The remote's bytes the tap holds back from the client, in order. */
  private final ArrayDeque<ByteBuf> heldForClient = new ArrayDeque<>();
  /** The remote's bytes handed to the client socket so far (the tap's offsets count these). */
  private long passedToClient;

  ProxyConnection(SessionProvider sessions, WakeOnDemand wake, ConnectionHold hold, RemoteEnd target,
      ConnectionTap.Factory taps, ForwardCounters counters, ConnectionLog log, BooleanSupplier proxyStopping) {
    this.sessions = sessions;
    this.wake = wake;
    this.hold = hold;
    this.proxyStopping = proxyStopping;
    this.target = target;
    this.taps = taps;
    this.counters = counters;
    this.log = log;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    local = (DuplexChannel) ctx.channel();
    backlog = ctx.alloc().compositeBuffer(64);
    tap = taps.open(local, this::passHeld);
    counters.openConnections.incrementAndGet();
    counters.connectionsTotal.increment();
    // A Unix socket's client has no address: the channel's id tells connections apart.
    peer = local.remoteAddress() instanceof InetSocketAddress address ? address.toString()
        : "local client " + local.id().asShortText();
    log.connection(ActivityConnection.Event.OPENED, peer, 0, 0);
    // After the opening fact: a stop decided on the entries counted so far has seen that fact.
    if (!wake.enter()) {
      startWake();
      return;
    }
    Optional<ClientSession> session = sessions.current();
    if (session.isPresent()) {
      openChannel(session.get());
      // Read the request while the channel opens: it is sent the moment the open is confirmed
      // (one read, at most one socket buffer, kept in the backlog; pumpToSsh reads on).
      local.read();
    } else {
      sessions.wake(); // a user is waiting: try to reconnect now, not after the backoff
      startHold();
    }
  }

  private void openChannel(ClientSession session) {
    if (closed) {
      return;
    }
    try {
      ssh = ForwardChannel.create(session, local.remoteAddress() instanceof InetSocketAddress address ? address
          : NO_ORIGINATOR, target, this);
      ssh.open().addListener(opened -> onLoop(() -> {
        if (!opened.isOpened()) {
          refuse("SSH channel to " + target + " refused: " + opened.getException());
        } else if (closed) {
          closeSsh();
        } else {
          ssh.addCloseFutureListener(f -> onLoop(this::sshClosed));
          sshOpen = true;
          pumpToSsh();
        }
      }));
    } catch (IOException | RuntimeException e) {
      refuse("could not open an SSH channel to " + target + ": " + e);
      closeSsh(); // registered on the session before open() threw: it must not stay there
    }
  }

  // ---- held while there is no session

  private void startHold() {
    if (!hold.tryHold()) {
      refuse("no SSH session (connecting or reconnecting) and " + hold.limit
          + " connections are already held for it");
      return;
    }
    holding = true;
    heldSince = System.nanoTime();
    LOG.debug("forward to {}: client {} held until the SSH session is up (at most {})", target, peer,
        hold.timeoutText());
    holdTimer = local.eventLoop().schedule(this::holdTimedOut, hold.timeout.toNanos(), TimeUnit.NANOSECONDS);
    waitForSession();
    local.read(); // a held connection reads a little, so a client's close or reset ends it
  }

  /**
   * The gate is closed (the server is stopping or stopped): ask for the server and hold the
   * client until it runs and the session is up, at most {@code lifecycle.wakeTimeout} in all.
   */
  private void startWake() {
    if (!hold.tryHold()) {
      refuse("starting server, and " + hold.limit + " connections already wait for it");
      return;
    }
    holding = true;
    waking = true;
    heldSince = System.nanoTime();
    withdrawWaiter = () -> {
    };
    String why = target instanceof RemoteSocket ? "a Docker API connection"
        : "a connection to " + local.localAddress() + " (" + target + ")";
    LOG.info("forward to {}: client {} waits for the server to start (at most {})", target, peer,
        ConnectionHold.text(wake.timeout()));
    holdTimer = local.eventLoop().schedule(this::wakeTimedOut, wake.timeout().toNanos(), TimeUnit.NANOSECONDS);
    wake.wake(why).onComplete(started -> onLoop(() -> woken(started.cause())));
    local.read();
  }

  /** The lifecycle answered the wake: the server runs (null), or it will not start ({@code failure}). */
  private void woken(Throwable failure) {
    if (!holding || closed || !waking) {
      return;
    }
    if (failure != null) {
      endHold();
      refuse("starting server failed: " + (failure.getMessage() == null ? failure : failure.getMessage()));
      return;
    }
    waking = false;
    LOG.debug("forward to {}: client {}: the server runs, waiting for the SSH session", target, peer);
    sessions.wake();
    waitForSession(); // still bounded by the wake's timer
  }

  private void wakeTimedOut() {
    if (!holding || closed) {
      return;
    }
    boolean started = !waking;
    endHold();
    refuse("starting server, " + (started ? "the server runs but no SSH session came" : "the server is not up")
        + " within lifecycle.wakeTimeout (" + ConnectionHold.text(wake.timeout()) + "); try again in a moment");
  }

  private void waitForSession() {
    withdrawWaiter = sessions.whenConnected(session -> onLoop(() -> sessionUp(session)));
  }

  private void sessionUp(ClientSession session) {
    if (!holding || closed) {
      return;
    }
    if (!session.isOpen() || !session.isAuthenticated()) {
      waitForSession(); // went down again before this loop got to it: wait for the next one
      return;
    }
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - heldSince);
    endHold();
    LOG.debug("forward to {}: client {} served after {} ms held for the SSH session", target, peer, waitedMs);
    openChannel(session);
  }

  private void holdTimedOut() {
    if (!holding || closed) {
      return;
    }
    endHold();
    refuse("no SSH session within forwarding.holdTimeout (" + hold.timeoutText()
        + "; connecting or reconnecting)");
  }

  /** Gives the hold's place back and withdraws the timer and the waiter. Idempotent. */
  private void endHold() {
    if (!holding) {
      return;
    }
    holding = false;
    waking = false;
    hold.release();
    holdTimer.cancel(false);
    withdrawWaiter.run();
  }

  // ---- local -> SSH

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf bytes = (ByteBuf) msg;
    tap.fromClient(bytes);
    backlog.addComponent(true, bytes);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (holding) {
      if (!localEof && backlog.readableBytes() < HELD_BACKLOG_LIMIT) {
        local.read();
      }
      return;
    }
    pumpToSsh();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      localEof = true;
      pumpToSsh();
      maybeClose();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /**
   * Writes as many packets as the remote window and the in-flight bound allow, then the EOF
   * once everything read before the local FIN is out, and reads on while there is room.
   */
  private void pumpToSsh() {
    if (!sshOpen || closed) {
      return;
    }
    RemoteWindow window = ssh.getRemoteWindow();
    while (backlog.isReadable() && sshBytesInFlight < SSH_IN_FLIGHT_LIMIT) {
      int n = (int) Math.min(backlog.readableBytes(), Math.min(window.getPacketSize(), window.getSize()));
      if (n <= 0) {
        break; // windowExpanded() pumps again
      }
      window.consume(n);
      IoWriteFuture written;
      try {
        written = ssh.writeData(backlog, n);
      } catch (IOException | RuntimeException e) {
        sshWriteFailed(e);
        return;
      }
      sshBytesInFlight += n;
      counters.bytesOut.add(n);
      connBytesOut += n;
      written.addListener(w -> local.eventLoop().execute(() -> {
        sshBytesInFlight -= n;
        if (w.isWritten()) {
          pumpToSsh();
        } else {
          sshWriteFailed(w.getException());
        }
      }));
    }
    backlog.discardReadComponents();
    if (localEof && !backlog.isReadable() && !eofSent) {
      eofSent = true;
      try {
        ssh.writeEof();
      } catch (IOException e) {
        fail("SSH EOF failed", e);
        return;
      }
    }
    if (!localEof && backlog.readableBytes() < LOCAL_BACKLOG_LIMIT) {
      local.read();
    }
  }

  /**
   * The remote closing while the client still sends is normal (a server hanging up early): what
   * the client sends from now on has nowhere to go, while what the remote sent before its close
   * is still delivered; the channel's close then ends the connection. Anything else is a failure.
   */
  private void sshWriteFailed(Throwable cause) {
    if (closed) {
      return; // a write that completed after the connection ended: its backlog is gone
    }
    if (ssh.closedByPeer()) {
      sshOpen = false;
      backlog.skipBytes(backlog.readableBytes()).discardReadComponents();
    } else {
      fail("SSH write failed", cause);
    }
  }

  @Override
  public void windowExpanded() {
    local.eventLoop().execute(this::pumpToSsh);
  }

  // ---- SSH -> local (called on MINA's threads)

  @Override
  public void data(byte[] data, int offset, int length) {
    ByteBuf copy = local.alloc().directBuffer(length).writeBytes(data, offset, length);
    if (!onLoop(() -> fromRemote(copy))) {
      copy.release();
    }
  }

  @Override
  public void eof() {
    onLoop(() -> {
      remoteEof = true;
      if (localWritesInFlight == 0 && heldForClient.isEmpty()) {
        shutdownLocalOutput();
      }
    });
  }

  /**
   * Runs a MINA callback's work on the connection's loop. False when the loop is gone (the proxy
   * is shutting down): the connection is closed with it, so the work has nothing left to do.
   */
  private boolean onLoop(Runnable work) {
    try {
      local.eventLoop().execute(work);
      return true;
    } catch (RejectedExecutionException stopped) {
      return false;
    }
  }

  /** The remote's bytes: shown to the tap, then written, or held while the tap's limit says so. */
  private void fromRemote(ByteBuf data) {
    if (closed) {
      data.release();
      return;
    }
    tap.fromRemote(data);
    if (heldForClient.isEmpty() && tap.clientLimit() - passedToClient >= data.readableBytes()) {
      writeLocal(data); // the usual case: nothing held
      return;
    }
    heldForClient.add(data);
    passHeld();
  }

  /** Writes what the tap's limit lets through of the held bytes; on the loop. */
  private void passHeld() {
    long limit = tap.clientLimit();
    while (!closed && !heldForClient.isEmpty() && passedToClient < limit) {
      ByteBuf next = heldForClient.peek();
      long room = limit - passedToClient;
      if (next.readableBytes() <= room) {
        writeLocal(heldForClient.poll());
      } else {
        writeLocal(next.readRetainedSlice((int) room));
      }
    }
    if (remoteEof && heldForClient.isEmpty() && localWritesInFlight == 0) {
      shutdownLocalOutput();
    }
  }

  private void writeLocal(ByteBuf data) {
    int n = data.readableBytes();
    passedToClient += n;
    counters.bytesIn.add(n);
    connBytesIn += n;
    localWritesInFlight++;
    local.write(data).addListener(w -> {
      localWritesInFlight--;
      if (!w.isSuccess()) {
        localWriteFailed(w.cause());
        return;
      }
      try {
        ssh.releaseWindow(n); // a closing channel takes no window adjust
      } catch (IOException | RuntimeException e) {
        fail("SSH window update failed", e);
        return;
      }
      if (remoteEof && localWritesInFlight == 0 && heldForClient.isEmpty()) {
        shutdownLocalOutput();
      }
    });
    // One flush for all packets that arrived together: tasks queued behind this one are writes.
    if (!flushScheduled) {
      flushScheduled = true;
      local.eventLoop().execute(() -> {
        flushScheduled = false;
        local.flush();
      });
    }
  }

  /**
   * A local write failed. The client's own reset or close ends the connection as expected; any
   * other cause lost bytes the client was owed, so it is a counted, named failure.
   */
  private void localWriteFailed(Throwable cause) {
    if (closed) {
      return; // our own close failed the writes still queued
    }
    if (LocalSocketErrors.isClientGone(cause)) {
      LOG.debug("forward to {}: client {} went away: {}", target, peer, cause.toString());
      local.close();
    } else {
      fail("write to local client failed, the rest of the remote's data is lost", cause);
    }
  }

  /**
   * The SSH channel is closed. After the remote's EOF that is the normal end; without it the
   * stream was cut (the session died, or the remote side was reset), so the client is reset
   * too: a FIN would pass the cut stream off as complete.
   */
  private void sshClosed() {
    if (closed) {
      return;
    }
    if (remoteEof) {
      maybeClose();
    } else if (ssh.closedByPeer()) {
      LOG.debug("forward to {}: remote ended {} without EOF; resetting the client", target, peer);
      reset();
    } else {
      fail("SSH channel closed without the remote's EOF (SSH session lost); resetting the client", null);
    }
  }

  private void reset() {
    ForwardProxy.reset(local);
  }

  /** Passes the remote EOF on; Netty's shutdownOutput drops unflushed writes, so only when none. */
  private void shutdownLocalOutput() {
    if (!closed && local.isActive() && !local.isOutputShutdown()) {
      local.shutdownOutput().addListener(f -> maybeClose());
    } else {
      maybeClose();
    }
  }

  /**
   * Closes the local side once nothing more can flow: the remote's data is all written and its
   * EOF passed on, and either our EOF went out too or the channel is gone.
   */
  private void maybeClose() {
    if (!closed && remoteEof && localWritesInFlight == 0 && heldForClient.isEmpty()
        && (eofSent || ssh == null || ssh.isClosing())) {
      local.close();
    }
  }

  // ---- endings

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset or error on one local connection ends only this connection.
    if (LocalSocketErrors.isClientGone(cause)) {
      LOG.debug("forward to {}: client {} went away: {}", target, peer, cause.toString());
      ctx.close();
    } else {
      fail("local connection failed", cause);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (holding) {
      endHold();
      LOG.debug("forward to {}: client {} closed while held for the SSH session", target, peer);
    }
    if (!closed) {
      closed = true;
      counters.openConnections.decrementAndGet();
      log.connection(ActivityConnection.Event.CLOSED, peer, connBytesIn, connBytesOut);
    }
    backlog.release();
    heldForClient.forEach(ByteBuf::release);
    heldForClient.clear();
    tap.closed();
    closeSsh();
  }

  /** Ends the connection with a reset, as a counted failure named in a WARN. */
  private void fail(String what, Throwable cause) {
    end(what, cause, null);
  }

  /**
   * Ends a connection whose remote was never reached (nothing of it reached the client), as a
   * counted failure named in a WARN: with the tap's answer when it has one (an HTTP error a
   * Docker client prints), else with a reset.
   */
  private void refuse(String what) {
    end(what, null, closed || failed ? null : tap.refusal(local.alloc(), what));
  }

  private void end(String what, Throwable cause, ByteBuf answer) {
    if (closed || failed) {
      return; // already ended; later callbacks of the same ending say nothing new
    }
    failed = true;
    if (proxyStopping.getAsBoolean()) {
      // docktunnel is stopping and takes the session with it: an ending, not a fault.
      LOG.debug("forward to {}: client {} ended by the stop: {}", target, peer, what);
      if (answer != null) {
        answer.release();
      }
      reset();
      return;
    }
    counters.connectionsFailed.increment();
    LOG.warn("forward to {}: client {}: {}{}{}", target, peer, what, cause == null ? "" : ": " + cause,
        answer == null ? "; reset" : "; answered with an error");
    if (answer == null) {
      reset();
    } else {
      local.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * Closes the SSH channel with CHANNEL_CLOSE once its writes are on the wire
   * ({@link ForwardChannel#closeGracefully}; MINA's immediate close does not send it), forcing it
   * if the peer does not answer in time. The fallback is cancelled once the channel closed: it
   * holds the channel, and a thousand connections a second would otherwise keep thousands of
   * dead channels on the heap.
   */
  private void closeSsh() {
    ForwardChannel channel = ssh;
    if (channel == null || channel.isClosed()) {
      return;
    }
    ScheduledFuture<?> fallback = local.eventLoop().schedule(() -> {
      if (channel.isClosed()) {
        return;
      }
      if (proxyStopping.getAsBoolean()) {
        LOG.debug("forward to {}: client {}: SSH channel closed without the remote's CLOSE by the stop", target, peer);
      } else {
        counters.connectionsFailed.increment();
        LOG.warn("forward to {}: client {}: the remote did not answer the SSH channel's CLOSE within {} s;"
            + " closed without it", target, peer, CLOSE_FALLBACK_SECONDS);
      }
      channel.close(true);
    }, CLOSE_FALLBACK_SECONDS, TimeUnit.SECONDS);
    channel.addCloseFutureListener(closed -> fallback.cancel(false));
    channel.closeGracefully();
  }
}
