package dev.docktunnel.testbed;

import java.time.Duration;
import java.util.List;

/**
 * Outcome of one finished (or timed-out) external command.
 *
 * @param command  the command line as run
 * @param exitCode the exit code; -1 when the command timed out and was killed
 * @param stdout   everything it wrote to stdout (UTF-8)
 * @param stderr   everything it wrote to stderr (UTF-8)
 * @param elapsed  wall-clock time from start to exit
 * @param timedOut whether the command ran past its timeout and was killed
 */
public record ProcessResult(
        List<String> command, int exitCode, String stdout, String stderr, Duration elapsed, boolean timedOut) {

    public boolean ok() {
        return !timedOut && exitCode == 0;
    }

    /** Returns this result when the command succeeded, otherwise throws with its stderr. */
    public ProcessResult orThrow() {
        if (!ok()) {
            throw new TestbedException(describeFailure());
        }
        return this;
    }

    /** One readable paragraph: the command, how it ended, and the tail of what it printed. */
    public String describeFailure() {
        String how = timedOut ? "timed out after " + elapsed.toMillis() + " ms" : "exited with " + exitCode;
        return "command " + String.join(" ", command) + " " + how
                + "\n--- stderr (tail) ---\n" + tail(stderr, 3000)
                + "\n--- stdout (tail) ---\n" + tail(stdout, 1500);
    }

    static String tail(String text, int maxChars) {
        return text.length() <= maxChars ? text : "..." + text.substring(text.length() - maxChars);
    }
}
