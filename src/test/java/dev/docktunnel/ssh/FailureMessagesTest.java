package dev.docktunnel.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.junit.jupiter.api.Test;

class FailureMessagesTest {
  private final FailureMessages messages = new FailureMessages("ssh://bob@box", Duration.ofSeconds(10));
  private final SshTarget target = SshTargetResolver.resolve("ssh://bob@box:2222", java.nio.file.Path.of("/dev/null"));

  @Test
  void namesWhatFailedWhereAndWhatToDo() {
    String refused = messages.firstFailure(new IOException(new ConnectException("Connection refused")),
        new AttemptReport(), false, target);
    assertTrue(refused.startsWith("cannot connect to bob@box:2222: Connection refused; "), refused);
    assertTrue(refused.contains("sshd listens on port 2222") && refused.contains("--wait"), refused);

    String unresolved = messages.describe(new IOException(new UnresolvedAddressException()), target);
    assertEquals("cannot resolve host name box", unresolved);

    String timeout = messages.describe(new TimeoutException("late"), null);
    assertEquals("no SSH session to ssh://bob@box within 10 s (connect, key exchange and authentication)", timeout);
  }

  @Test
  void aRejectedKeyReadsLikeSshsPermissionDenied() {
    SshException tooMany = new SshException(SshConstants.SSH2_DISCONNECT_PROTOCOL_ERROR,
        "Too many authentication failures");
    assertTrue(FailureMessages.isAuthRejected(new IOException(tooMany)));
    assertFalse(FailureMessages.isAuthRejected(new IOException("reset")));
    String message = messages.firstFailure(tooMany, new AttemptReport(), true, target);
    assertTrue(message.startsWith("Permission denied (publickey) for user 'bob' at bob@box:2222: no key to offer"),
        message);
    assertTrue(message.contains("MaxAuthTries") && message.contains("authorized_keys"), message);
    String reason = messages.authRequired(new AttemptReport(), tooMany, target);
    assertTrue(reason.startsWith("no key to offer to bob@box:2222") && reason.endsWith("; retrying"), reason);
  }

  @Test
  void durationsAsPeopleWriteThem() {
    assertEquals("5 s", FailureMessages.human(Duration.ofSeconds(5)));
    assertEquals("400 ms", FailureMessages.human(Duration.ofMillis(400)));
  }
}
