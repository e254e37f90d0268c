package dev.docktunnel.forward;

/**
 * Where a proxied connection's SSH channel goes, as the remote sshd sees it: a TCP port
 * ({@code direct-tcpip}, the forwards) or a Unix socket ({@code direct-streamlocal@openssh.com},
 * the local Docker socket). One data path, two kinds of channel.
 */
public sealed interface RemoteEnd permits ForwardTarget, RemoteSocket {
}
