package dev.docktunnel.testbed;

/**
 * A container with {@link StreamServer} running in its network namespace (see
 * {@link Testbed#runStreamServer}): echo, owe-after-FIN, source and hangup ports, each published
 * on a host port of its own.
 *
 * @param containerId the container's full id
 * @param name the container's name
 * @param echoPort published port of the echo server (echoes to EOF, then FIN)
 * @param owePort published port of the owe server (reads to EOF, then sends {@code oweBytes})
 * @param sourcePort published port of the endless source
 * @param hangupPort published port of the server that reads a little and closes while the client sends
 * @param oweBytes what the owe server sends after the request's EOF
 * @param process the server process (in the container's namespace, not the container's child)
 */
public record StreamServerContainer(String containerId, String name, int echoPort, int owePort, int sourcePort,
                                    int hangupPort, int oweBytes, Process process) {
    static final int ECHO_PORT = 7000;
    static final int OWE_PORT = 7001;
    static final int SOURCE_PORT = 7002;
    static final int HANGUP_PORT = 7003;

    /** Kills the server process (by PID); the container stays until it is removed. */
    public void stopServer() {
        Processes.killTree(process.toHandle());
    }
}
