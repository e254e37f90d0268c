package dev.docktunnel.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.bridge.BridgePolicy.Action;
import dev.docktunnel.bus.Addresses;
import org.junit.jupiter.api.Test;

class BridgePolicyTest {
  final BridgePolicy policy = BridgePolicy.docktunnel();

  @Test
  void everyFactMayBeRegisteredAndNothingElse() {
    for (String fact : Addresses.FACTS) {
      assertEquals(Action.REGISTER, policy.decide("register", fact, null).action(), fact);
    }
    for (String other : new String[] {Addresses.FORWARDS_LIST, "docktunnel.", "docktunnel.forward.status.x",
        "other.address", "docktunnel.*", ".*"}) {
      BridgePolicy.Verdict v = policy.decide("register", other, null);
      assertEquals(Action.REFUSE, v.action(), other);
      assertEquals(BridgePolicy.ACCESS_DENIED, v.code());
      assertTrue(v.reason().contains(other), v.reason());
    }
  }

  @Test
  void queriesOnlyAsRequestReply() {
    for (String query : Addresses.QUERIES) {
      assertEquals(Action.QUERY, policy.decide("send", query, "reply.1").action(), query);
      assertEquals(Action.REFUSE, policy.decide("send", query, null).action(), "a send without a reply");
      assertEquals(Action.REFUSE, policy.decide("send", query, "").action(), "an empty reply address");
      assertEquals(Action.REFUSE, policy.decide("publish", query, "reply.1").action(), "publishing a query");
    }
  }

  @Test
  void nothingMayBeSentOrPublishedToAFactOrAnyOtherAddress() {
    // The lifecycle's commands change state (extend, start, stop): only the token-protected HTTP API reaches them.
    for (String address : new String[] {Addresses.FORWARD_STATUS, Addresses.SSH_STATE, "docktunnel.other",
        "x", Addresses.LIFECYCLE_EXTEND, Addresses.LIFECYCLE_SERVER}) {
      assertEquals(BridgePolicy.ACCESS_DENIED, policy.decide("send", address, "r").code(), address);
      assertEquals(BridgePolicy.ACCESS_DENIED, policy.decide("publish", address, null).code(), address);
    }
  }

  @Test
  void pingUnregisterAndMalformedFrames() {
    assertEquals(Action.PING, policy.decide("ping", null, null).action());
    assertEquals(Action.UNREGISTER, policy.decide("unregister", Addresses.FORWARD_STATUS, null).action());
    assertEquals(BridgePolicy.UNKNOWN_TYPE, policy.decide(null, Addresses.FORWARD_STATUS, null).code());
    assertEquals(BridgePolicy.UNKNOWN_TYPE, policy.decide("subscribe", Addresses.FORWARD_STATUS, null).code());
    assertEquals(BridgePolicy.MISSING_ADDRESS, policy.decide("register", null, null).code());
    assertEquals(BridgePolicy.MISSING_ADDRESS, policy.decide("send", "", "r").code());
  }
}
