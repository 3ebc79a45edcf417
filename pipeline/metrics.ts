import { Counter, Histogram, type Registry } from 'prom-client';

/** The pipeline's figures on the daemon's registry; names are part of the operations contract. */
export function createPipelineMetrics(registry: Registry) {
  return {
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
