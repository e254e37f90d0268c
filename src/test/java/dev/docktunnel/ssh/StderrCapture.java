package dev.docktunnel.ssh;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.function.Executable;

/**
 * What the log (slf4j-simple, which looks {@code System.err} up on every line) printed while a
 * block ran, for tests that assert a warning is written, and written once.
 */
public final class StderrCapture {

  private StderrCapture() {
  }

  public static String during(Executable block) throws Throwable {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      block.execute();
    } finally {
      System.setErr(original);
    }
    String text = captured.toString(StandardCharsets.UTF_8);
    original.print(text);
    return text;
  }
}
