package dev.docktunnel.bridge;

import dev.docktunnel.bus.Addresses;
import java.util.List;
import java.util.Set;

/**
 * What a bridge client may do with one inbound frame. Outbound only the facts ({@link
 * Addresses#FACTS}) may be registered; inbound only the read-only queries ({@link
 * Addresses#QUERIES}), and only as request/reply (a {@code send} with a {@code replyAddress}).
 * Publishing, sending to anything else, or a send that expects no reply is refused. Pure.
 */
public final class BridgePolicy {

  /** What to do with a frame. */
  public enum Action {
    /** Answer with a {@code pong}. */
    PING,
    /** Deliver the facts of {@code address} from now on (idempotent). */
    REGISTER,
    /** Stop delivering {@code address}. */
    UNREGISTER,
    /** Ask the query's owner and return its reply to {@code replyAddress}. */
    QUERY,
    /** Refuse with an error frame; nothing is delivered. */
    REFUSE
  }

  /**
   * A decision.
   *
   * @param code the error frame's {@code message} when refused (the Vert.x bridges' codes:
   *     {@code access_denied}, {@code missing_address}, {@code unknown_type}), else null
   * @param reason for the client and the WARN line, when refused
   */
  public record Verdict(Action action, String code, String reason) {
    static Verdict allow(Action action) {
      return new Verdict(action, null, null);
    }

    static Verdict refuse(String code, String reason) {
      return new Verdict(Action.REFUSE, code, reason);
    }
  }

  public static final String ACCESS_DENIED = "access_denied";
  public static final String MISSING_ADDRESS = "missing_address";
  public static final String UNKNOWN_TYPE = "unknown_type";

  private final Set<String> facts;
  private final Set<String> queries;

  public BridgePolicy(List<String> facts, List<String> queries) {
    this.facts = Set.copyOf(facts);
    this.queries = Set.copyOf(queries);
  }

  /** docktunnel's policy: its facts out, its queries in. */
  public static BridgePolicy docktunnel() {
    return new BridgePolicy(Addresses.FACTS, Addresses.QUERIES);
  }

  /**
   * Decides on a frame.
   *
   * @param type the frame's {@code type}, or null
   * @param address its {@code address}, or null
   * @param replyAddress its {@code replyAddress}, or null
   */
  public Verdict decide(String type, String address, String replyAddress) {
    if ("ping".equals(type)) {
      return Verdict.allow(Action.PING);
    }
    if (type == null || !Set.of("register", "unregister", "send", "publish").contains(type)) {
      return Verdict.refuse(UNKNOWN_TYPE, "frame type " + (type == null ? "missing" : "'" + type + "'")
          + " is not one of register, unregister, send, ping");
    }
    if (address == null || address.isEmpty()) {
      return Verdict.refuse(MISSING_ADDRESS, type + " frame has no address");
    }
    return switch (type) {
      case "register" -> facts.contains(address) ? Verdict.allow(Action.REGISTER)
          : Verdict.refuse(ACCESS_DENIED, "'" + address + "' is not a docktunnel fact; only "
              + String.join(", ", sorted(facts)) + " may be registered");
      case "unregister" -> Verdict.allow(Action.UNREGISTER);
      case "publish" -> Verdict.refuse(ACCESS_DENIED, "publishing is not permitted (to '" + address
          + "'); the bridge is outbound only, apart from the queries");
      default -> !queries.contains(address)
          ? Verdict.refuse(ACCESS_DENIED, "'" + address + "' is not a docktunnel query; only "
              + String.join(", ", sorted(queries)) + " may be sent")
          : replyAddress == null || replyAddress.isEmpty()
              ? Verdict.refuse(ACCESS_DENIED, "a send to '" + address + "' needs a replyAddress: queries are "
                  + "request/reply")
              : Verdict.allow(Action.QUERY);
    };
  }

  private static List<String> sorted(Set<String> names) {
    return names.stream().sorted().toList();
  }
}
