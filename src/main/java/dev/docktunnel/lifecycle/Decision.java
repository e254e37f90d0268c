package dev.docktunnel.lifecycle;

import dev.docktunnel.bus.LifecycleStatus;
import java.time.Instant;
import java.util.Objects;

/**
 * What {@link IdlePolicy} decided for one input: what the lifecycle verticle carries out, the
 * picture after it, and when to ask the policy again.
 *
 * @param action what to carry out
 * @param status the lifecycle picture after this decision (publish it when {@code changed})
 * @param changed the state, reason or countdown differ from before this input
 * @param nextCheck when to call {@link IdlePolicy#evaluate} again with a fresh activity snapshot:
 *     the one timer of the verticle, replacing the last one (an instant not after now: at once);
 *     null for none (a provider result, an activity change or a command calls the policy next)
 * @param stopIfActivityCount for an idle {@link Action#STOP}: the activity count it was based
 *     on (see {@link #stopStillValid}); null for every other decision and for a person's stop
 * @param refusal why a command (start, stop, extend) was not taken, for the asker; null when it
 *     was
 */
public record Decision(Action action, LifecycleStatus status, boolean changed, Instant nextCheck,
    Long stopIfActivityCount, String refusal) {

  /** What the lifecycle verticle does for a decision. */
  public enum Action {
    /** Nothing to carry out (publish the status if it changed). */
    NONE,
    /** Call the provider's {@code start}, then report {@code started} or {@code startFailed}. */
    START,
    /** The idle countdown began: announce that the server stops at {@code status.stopAt()}. */
    WARN,
    /** The countdown is over without a stop: activity, an extend, a start, or an aborted stop. */
    CANCEL_WARNING,
    /**
     * Call the provider's {@code stop} (or {@code destroy}), then report {@code stopped} or
     * {@code stopFailed}. An idle stop first checks {@link #stopStillValid}; if not, it reports
     * {@code stopAborted} instead of calling the provider.
     */
    STOP,
    /**
     * The start the held clients waited for failed (or could not be asked): answer every held
     * connection and Docker request with {@code status.reason()} now, rather than at the wake
     * timeout.
     */
    FAIL_HELD
  }

  public Decision {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(status, "status");
    if (stopIfActivityCount != null && action != Action.STOP) {
      throw new IllegalArgumentException("only a STOP is based on an activity count, not " + action);
    }
  }

  /**
   * The race rule: an idle stop is carried out only if no activity came between the decision and
   * the provider call, i.e. the ledger's {@code activityCount()} is still the one the decision was
   * based on. A person's stop is always carried out.
   */
  public boolean stopStillValid(long activityCountNow) {
    if (action != Action.STOP) {
      throw new IllegalStateException("not a stop decision: " + action);
    }
    return stopIfActivityCount == null || stopIfActivityCount == activityCountNow;
  }

  /** Whether a command was refused ({@link #refusal()} says why). */
  public boolean refused() {
    return refusal != null;
  }
}
