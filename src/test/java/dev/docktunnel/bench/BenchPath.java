package dev.docktunnel.bench;

/**
 * One way from the benchmark's clients to the three containers on the "remote host".
 *
 * @param id        short name in the JSON
 * @param label     name in the table
 * @param how       the command or route, for the JSON and the README
 * @param host      where the clients connect (127.0.0.1 for tunnels, the namespace IP for direct)
 * @param iperfPort port of the iperf3 server as seen from the clients
 * @param echoPort  port of the echo container
 * @param httpPort  port of the busybox httpd container
 * @param client    the tunnel's local process (ssh or the docktunnel JVM) whose CPU is counted; null for direct
 */
record BenchPath(String id, String label, String how, String host, int iperfPort, int echoPort, int httpPort,
                 ProcessHandle client) implements MeasuredPath {

    static final String DIRECT = "direct";
    static final String SSH_GCM = "ssh-L-gcm";
    static final String SSH_DEFAULT = "ssh-L-default";
    static final String SSH_PTY_GCM = "ssh-tt-L-gcm";
    static final String DOCKTUNNEL = "docktunnel";

    /** Every ratio of the port rows is against this path of the same run. */
    static final String BASELINE = SSH_GCM;
}
