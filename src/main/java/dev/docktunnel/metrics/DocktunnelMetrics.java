package dev.docktunnel.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The process's one Prometheus registry: docktunnel's own meters ({@link TunnelMeters}), the JVM
 * basics and, when Vert.x is built with {@link #enableIn} and {@link #vertxMetricsFactory}, the
 * cheap Vert.x domains. Every name starts with {@code docktunnel.} (a filter prefixes the JVM
 * and Vert.x ones), so every Prometheus name starts with {@code docktunnel_}.
 */
public final class DocktunnelMetrics implements AutoCloseable {
  /** The prefix of every meter name. */
  public static final String PREFIX = "docktunnel.";
  /** Vert.x keeps registries in a static map by name: one name per instance, so tests do not share. */
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;
  private final String vertxRegistryName;

  private DocktunnelMetrics(PrometheusMeterRegistry registry, JvmGcMetrics gc) {
    this.registry = registry;
    this.gc = gc;
    this.vertxRegistryName = "docktunnel-" + INSTANCES.incrementAndGet();
  }

  /** A registry with the prefix filter and the JVM basics (memory, GC, threads, classes, CPU, uptime, fds). */
  public static DocktunnelMetrics create() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Before any meter exists: a filter applies only to meters registered after it.
    registry.config().meterFilter(prefixed());
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return new DocktunnelMetrics(registry, gc);
  }

  /** Renames every meter outside our namespace to {@code docktunnel.<name>}. */
  static MeterFilter prefixed() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        return id.getName().startsWith(PREFIX) ? id : id.withName(PREFIX + id.getName());
      }
    };
  }

  /**
   * Turns Vert.x metrics on in {@code options}, for this registry. Kept: the HTTP server (this
   * API; labelled by method and code only, never the path), TCP servers (the event bridge), worker
   * pools and verticles: a few counters per request. Off: the HTTP and TCP clients and datagrams,
   * which docktunnel does not use, and the event bus, whose meters cost a few updates on every
   * fact for every consumer and say little an operator acts on. The forward data path is Netty's and MINA's, outside Vert.x, so it costs
   * nothing here.
   */
  public VertxOptions enableIn(VertxOptions options) {
    return options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(vertxRegistryName)
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET)
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS));
  }

  /** The factory that makes Vert.x report into this registry ({@code Vertx.builder().withMetrics(...)}). */
  public VertxMetricsFactory vertxMetricsFactory() {
    return new MicrometerMetricsFactory(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Unhooks the GC listener; the registry's meters go with the registry. */
  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
