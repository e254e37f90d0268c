package dev.docktunnel.forward;

import java.io.IOException;
import java.net.InetSocketAddress;
import dev.docktunnel.docker.SshChannels;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.common.session.ConnectionService;

/** A {@code direct-tcpip} channel in async streaming mode whose reads see the remote EOF. */
final class ForwardChannel extends ChannelDirectTcpip {

  private ForwardChannel(SshdSocketAddress originator, SshdSocketAddress remote) {
    super(originator, remote);
    setStreaming(ClientChannel.Streaming.Async);
  }

  /** Creates and registers the channel on the session; {@link #open()} sends the request. */
  static ForwardChannel create(ClientSession session, InetSocketAddress originator, ForwardTarget target)
      throws IOException {
    ForwardChannel channel = new ForwardChannel(
        new SshdSocketAddress(originator.getAddress().getHostAddress(), originator.getPort()),
        new SshdSocketAddress(target.host(), target.port()));
    session.getService(ConnectionService.class).registerChannel(channel);
    return channel;
  }

  @Override
  public void handleEof() throws IOException {
    super.handleEof();
    SshChannels.completePendingReadOnEof(this);
  }
}
