package dev.docktunnel.bench;

/**
 * One way for the docker CLI to reach the remote engine: the {@code -H} value it is given.
 *
 * @param id          short name in the JSON
 * @param label       name in the table
 * @param how         how the path is set up, for the JSON and the README
 * @param dockerHost  the docker CLI's {@code -H} value
 * @param unavailable why the path could not be set up (its rows then say so instead of a number), or null
 */
record DockerPath(String id, String label, String how, String dockerHost, String unavailable)
        implements MeasuredPath {

    /** The testbed dockerd's own socket: no SSH, the docker CLI's floor. */
    static final String DIRECT = "direct-socket";
    /** {@code ssh -N -L <local socket>:<remote docker socket>}. */
    static final String SSH_SOCKET = "ssh-L-socket";
    /** Docker's own {@code docker -H ssh://} (one ssh login and {@code docker system dial-stdio} per command). */
    static final String DOCKER_SSH = "docker-ssh";
    /** docktunnel's local socket, {@code <state-dir>/<host-id>/docker.sock}. */
    static final String DOCKTUNNEL = "docktunnel-socket";

    /** Every ratio of the Docker socket rows is against this path of the same run. */
    static final String BASELINE = SSH_SOCKET;

    boolean available() {
        return unavailable == null;
    }
}
