import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The pipeline's figures on the daemon's registry; names are part of the operations contract.
 * `lag` is asked of the bus at each scrape; a failed ask leaves the last value.
 */
export function createPipelineMetrics(registry: Registry, lag: () => Promise<Array<{ partition: number; lag: number }>>) {
  return {
    lag: new Gauge({
      name: 'shaobing_pipeline_consumer_lag',
      help: 'Documents published but not yet committed by the pipeline group, by partition',
      labelNames: ['partition'] as const,
      registers: [registry],
      async collect() {
        const partitions = await lag().catch(() => undefined);
        for (const p of partitions ?? []) this.set({ partition: String(p.partition) }, p.lag);
      },
    }),
    documents: new Counter({
      name: 'shaobing_pipeline_documents_total',
      help: 'Documents handled by the pipeline, by outcome (stored, dead_letter)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    alertCandidates: new Counter({
      name: 'shaobing_pipeline_alert_matches_total',
      help: 'Topic matches that opened or updated an alert',
      registers: [registry],
    }),
    events: new Counter({
      name: 'shaobing_pipeline_alert_events_total',
      help: 'Alert events published to the notifier',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'shaobing_pipeline_batch_retries_total',
      help: 'Batches retried after a retriable failure (store or bus unavailable, lost races)',
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'shaobing_pipeline_stage_seconds',
      help: 'Time per batch in each stage',
      labelNames: ['stage'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    latencySeconds: new Histogram({
      name: 'shaobing_pipeline_publish_to_stored_seconds',
      help: 'From the bus accepting a document to the end of the batch that stored it and updated its alerts',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export type PipelineMetrics = ReturnType<typeof createPipelineMetrics>;
