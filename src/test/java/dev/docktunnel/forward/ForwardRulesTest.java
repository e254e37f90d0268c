package dev.docktunnel.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docktunnel.config.DocktunnelConfig.ConflictStrategy;
import dev.docktunnel.config.DocktunnelConfig.Forwarding;
import dev.docktunnel.config.PortRange;
import dev.docktunnel.docker.ContainerInfo;
import dev.docktunnel.docker.PublishedPort;
import dev.docktunnel.forward.ForwardRules.ForwardSpec;
import dev.docktunnel.forward.ForwardRules.Plan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ForwardRulesTest {
  static final Forwarding ALL = new Forwarding(List.of("127.0.0.1"), List.of(), List.of(), ConflictStrategy.FAIL);

  static ContainerInfo container(String state, Map<String, String> labels, PublishedPort... ports) {
    return new ContainerInfo("0123456789abcdef0123", "web", "img", state, labels, List.of(ports));
  }

  @Test
  void samePortOnRemoteLoopbackAndOneForwardPerPortForBothFamilies() {
    Plan plan = ForwardRules.plan(container("running", Map.of(),
        new PublishedPort("::", 8080, 80, "tcp"), new PublishedPort("0.0.0.0", 8080, 80, "tcp")), ALL);
    assertEquals(List.of(new ForwardSpec(new ForwardKey("0123456789abcdef0123", "tcp", 8080), "web",
        new ForwardTarget("127.0.0.1", 8080), 8080)), plan.forwards());
    assertTrue(plan.rejections().isEmpty());
  }

  @Test
  void portBoundToOneRemoteAddressIsReachedThere() {
    assertEquals(new ForwardTarget("10.1.2.3", 5432), ForwardRules.plan(container("running", Map.of(),
        new PublishedPort("10.1.2.3", 5432, 5432, "tcp")), ALL).forwards().get(0).target());
    assertEquals(new ForwardTarget("::1", 9000), ForwardRules.plan(container("running", Map.of(),
        new PublishedPort("::", 9000, 9000, "tcp")), ALL).forwards().get(0).target());
  }

  @Test
  void notRunningOrOptedOutWantsNothing() {
    PublishedPort p = new PublishedPort("0.0.0.0", 8080, 80, "tcp");
    assertTrue(ForwardRules.plan(container("exited", Map.of(), p), ALL).forwards().isEmpty());
    assertTrue(ForwardRules.plan(container("running", Map.of("docktunnel.forward", "false"), p), ALL)
        .forwards().isEmpty());
    assertEquals(1, ForwardRules.plan(container("running", Map.of("docktunnel.forward", "true"), p), ALL)
        .forwards().size());
  }

  @Test
  void labelRemapsTheLocalPortAndABadLabelIsRejectedWithItsName() {
    Plan plan = ForwardRules.plan(container("running",
        Map.of("docktunnel.port.8080", "18080", "docktunnel.port.9090", "lots"),
        new PublishedPort("0.0.0.0", 8080, 80, "tcp"), new PublishedPort("0.0.0.0", 9090, 90, "tcp")), ALL);
    assertEquals(1, plan.forwards().size());
    assertEquals(18080, plan.forwards().get(0).localPort());
    assertEquals(8080, plan.forwards().get(0).target().port());
    assertEquals(1, plan.rejections().size());
    assertTrue(plan.rejections().get(0).reason().contains("docktunnel.port.9090=lots"),
        plan.rejections().get(0).reason());
  }

  @Test
  void includeAndExcludeRangesFilterByPublishedPort() {
    Forwarding only8000s = new Forwarding(List.of("127.0.0.1"), List.of(PortRange.parse("8000-8999")),
        List.of(PortRange.parse("8443")), ConflictStrategy.FAIL);
    Plan plan = ForwardRules.plan(container("running", Map.of(),
        new PublishedPort("0.0.0.0", 8080, 80, "tcp"), new PublishedPort("0.0.0.0", 8443, 443, "tcp"),
        new PublishedPort("0.0.0.0", 5432, 5432, "tcp")), only8000s);
    assertEquals(List.of(8080), plan.forwards().stream().map(f -> f.key().publishedPort()).toList());
  }

  @Test
  void udpIsRejectedWithTheReason() {
    Plan plan = ForwardRules.plan(container("running", Map.of(), new PublishedPort("0.0.0.0", 53, 53, "udp")), ALL);
    assertTrue(plan.forwards().isEmpty());
    assertTrue(plan.rejections().get(0).reason().contains("TCP only"));
  }
}
