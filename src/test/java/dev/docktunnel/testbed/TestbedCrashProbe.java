package dev.docktunnel.testbed;

/**
 * Simulates a test JVM that is killed outright: starts a testbed with a running container,
 * prints its name, and halts without running shutdown hooks. Used by {@link TestbedIT}.
 */
final class TestbedCrashProbe {

    private TestbedCrashProbe() {
    }

    public static void main(String[] args) {
        Testbed testbed = Testbed.start();
        testbed.runEchoServer("crash-probe", 17003);
        System.out.println("NAME=" + testbed.name());
        System.out.flush();
        Runtime.getRuntime().halt(0); // like SIGKILL: no shutdown hook, no teardown
    }
}
