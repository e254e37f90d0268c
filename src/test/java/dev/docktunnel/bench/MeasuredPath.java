package dev.docktunnel.bench;

/** A row of the table: one way to the "remote host" (a port path or a Docker socket path). */
interface MeasuredPath {

    /** Short name in the JSON. */
    String id();

    /** Name in the table. */
    String label();

    /** The command or route, for the JSON and the README. */
    String how();
}
