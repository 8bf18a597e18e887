import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of one server; `/metrics` renders `registry`. */
export class Metrics {
  readonly registry = new Registry();

  readonly appends = new Counter({
    name: "starcite_appends_total",
    help: "Events submitted for append, by outcome (appended, deduped, rejected).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly appendBatchSize = new Histogram({
    name: "starcite_append_batch_size",
    help: "Events per append transaction (group commit coalesces concurrent appends).",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
    registers: [this.registry],
  });
  readonly appendDuration = new Histogram({
    name: "starcite_append_duration_seconds",
    help: "Time from an append call reaching the batcher to its result.",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({
    name: "starcite_subscriptions_active",
    help: "Open tail subscriptions.",
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: "starcite_notifications_total",
    help: "NOTIFY hints received on the LISTEN connection.",
    registers: [this.registry],
  });
  readonly eventReads = new Counter({
    name: "starcite_event_reads_total",
    help: "Event read queries issued: source=hub for shared live reads (one per session advance, whatever the subscriber count), source=catchup for a subscriber paging on its own.",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly tailResults = new Counter({
    name: "starcite_tail_results_total",
    help: "Tail batches turned into GraphQL results: computed, or shared with subscribers at the same point of the same session.",
    labelNames: ["how"] as const,
    registers: [this.registry],
  });
  readonly catchUpPages = new Counter({
    name: "starcite_catchup_pages_total",
    help: "Catch-up pages serialised once in the server (GraphQL tails): read from the database, served from the page cache, or shared with a concurrent reader.",
    labelNames: ["how"] as const,
    registers: [this.registry],
  });
  readonly listenerReconnects = new Counter({
    name: "starcite_listener_reconnects_total",
    help: "Recovered losses of the LISTEN connection.",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "starcite_process_" });
  }
}
