import { readFileSync } from 'node:fs';
import { Client, errors as esErrors, type estypes } from '@elastic/elasticsearch';
import type { ElasticsearchConfig } from '../core/config';
import { ShaobingError } from '../core/errors';
import { DEFAULT_TIME_ZONE } from '../core/time';
import { silentLogger, type Logger } from '../core/logger';
import { AuditEntry, Delivery, type Alert, type IndexedDocument } from '../core/records';
import { alertFilters, alertSort, auditFilters, auditSort, deliveryFilters, deliverySort, documentFilters, documentSort, type Filter, type SortKey } from './query';
import {
  LEASE_JOURNAL_SIZE,
  MAX_MEMBERS_PAGE,
  MAX_PAGE_SIZE,
  pageSize,
  screenDocuments,
  StoreBulkError,
  type BandMember,
  type BulkItemFailure,
  type DocumentFigures,
  type Aggregation,
  type Bucket,
  type SearchResult,
  type Store,
  type Versioned,
} from './types';

export interface ElasticsearchStoreOptions {
  config: ElasticsearchConfig;
  log?: Logger;
}

/**
 * The Elasticsearch API through the official 8.x client, kept to what Elasticsearch 7.17–9 and
 * OpenSearch 2 share: composable index templates, bulk, get, bool/term/range/match queries,
 * terms and date_histogram aggregations, if_seq_no/if_primary_term writes.
 */
export function createElasticsearchStore(options: ElasticsearchStoreOptions): Store {
  const { config } = options;
  const log = options.log ?? silentLogger;
  const client = new Client({
    node: config.node,
    requestTimeout: config.request_timeout_ms,
    maxRetries: 2,
    ...(config.api_key ? { auth: { apiKey: config.api_key } } : {}),
    ...(config.username ? { auth: { username: config.username, password: config.password ?? '' } } : {}),
    ...(config.ca_file ? { tls: { ca: readFileSync(config.ca_file) } } : {}),
  });
  const index = {
    documents: `${config.index_prefix}-documents`,
    alerts: `${config.index_prefix}-alerts`,
    deliveries: `${config.index_prefix}-deliveries`,
    leases: `${config.index_prefix}-leases`,
    audit: `${config.index_prefix}-audit`,
  };
  let closed: Promise<void> | undefined;
  /** The version of each lease this store last wrote as its holder, so a renewal needs no read. */
  const holding = new Map<string, { seqNo: number; primaryTerm: number; position: number }>();

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new ShaobingError('SB_STORE_STOPPED', 'the Elasticsearch store has been closed');
    try {
      return await fn();
    } catch (err) {
      throw asStoreError(err, what);
    }
  };

  const search = async <T>(target: string, filters: Filter[], sort: SortKey[], size?: number, offset?: number) =>
    call(`search ${target}`, () =>
      client.search<T>({
        index: target,
        query: toQuery(filters),
        sort: sort.map((s) => ({ [s.field]: { order: s.dir } })),
        size: pageSize(size),
        from: offset ?? 0,
        track_total_hits: true,
        seq_no_primary_term: true,
      }),
    );

  const aggregate = async (target: string, filters: Filter[], aggregation: Aggregation<string, string, string>): Promise<Bucket[]> => {
    const sum = 'terms' in aggregation ? undefined : aggregation.sum;
    const agg: estypes.AggregationsAggregationContainer =
      'terms' in aggregation
        ? { terms: { field: aggregation.terms, size: aggregation.size ?? 10 } }
        : {
            date_histogram: {
              field: aggregation.field ?? (target === index.documents ? 'published_at' : 'last_seen_at'),
              calendar_interval: aggregation.date_histogram,
              time_zone: aggregation.time_zone ?? DEFAULT_TIME_ZONE,
              min_doc_count: 1,
            },
            ...(sum ? { aggs: { s: { sum: { field: `metrics.${sum}` } } } } : {}),
          };
    const response = await call(`aggregate ${target}`, () =>
      client.search({ index: target, query: toQuery(filters), size: 0, aggs: { a: agg } }),
    );
    const buckets = (response.aggregations?.a as { buckets: Array<{ key: string | number; doc_count: number; s?: { value: number | null } }> }).buckets;
    return buckets.map((b) => ({
      key: 'terms' in aggregation ? String(b.key) : new Date(b.key as number).toISOString(),
      count: b.doc_count,
      ...(sum ? { sum: b.s?.value ?? 0 } : {}),
    }));
  };

  const versioned = (hit: { _source?: Alert; _seq_no?: number; _primary_term?: number }): Versioned<Alert> => ({
    value: hit._source!,
    version: `${hit._seq_no}:${hit._primary_term}`,
  });

  const store: Store = {
    kind: 'elasticsearch',

    async init() {
      const settings = { number_of_shards: config.number_of_shards, number_of_replicas: config.number_of_replicas };
      await call('create index templates', async () => {
        for (const [name, mappings] of [
          [index.documents, DOCUMENT_MAPPINGS],
          [index.alerts, ALERT_MAPPINGS],
          [index.deliveries, DELIVERY_MAPPINGS],
          [index.leases, LEASE_MAPPINGS],
          [index.audit, AUDIT_MAPPINGS],
        ] as const) {
          await client.indices.putIndexTemplate({
            name,
            index_patterns: [name],
            priority: 200,
            template: { settings: { ...settings, analysis: WHITESPACE_ANALYSIS }, mappings },
          });
          const exists = await client.indices.exists({ index: name });
          if (!exists) {
            await client.indices.create({ index: name }).catch((err: unknown) => {
              // Another process created it between our check and our call.
              if (!(err instanceof esErrors.ResponseError && err.body?.error?.type === 'resource_already_exists_exception')) throw err;
            });
          } else {
            // Fields added by a newer version reach an index created by an older one.
            await client.indices.putMapping({ index: name, ...mappings });
          }
        }
      });
      log.debug({ index }, 'elasticsearch store ready');
    },

    async putDocuments(docs) {
      const { valid, failures: invalid } = screenDocuments(docs);
      if (valid.length > 0) {
        const response = await call('bulk index documents', () =>
          client.bulk({ operations: valid.flatMap((doc) => [{ index: { _index: index.documents, _id: doc.id } }, doc]) }),
        );
        if (response.errors) invalid.push(...bulkFailures(response));
      }
      if (invalid.length > 0) throw new StoreBulkError(invalid);
    },


    async getDocument(id) {
      const response = await call('get document', () => client.get<IndexedDocument>({ index: index.documents, id }, { ignore: [404] }));
      return response.found ? response._source : undefined;
    },

    async searchDocuments(query): Promise<SearchResult<IndexedDocument>> {
      const response = await search<IndexedDocument>(index.documents, documentFilters(query), documentSort(query), query.size, query.offset);
      return { total: totalOf(response.hits.total), items: response.hits.hits.map((h) => h._source!) };
    },

    aggregateDocuments: (query, aggregation) => aggregate(index.documents, documentFilters(query), aggregation),

    async findBandMembers(lookups, options) {
      if (lookups.length === 0) return [];
      const size = pageSize(options.size ?? 20);
      const response = await call('find band members', () =>
        client.msearch<BandMember>({
          searches: lookups.flatMap((bands) => [
            { index: index.documents },
            {
              // Each shared band scores 1: most shared first, then the oldest.
              query: {
                bool: {
                  filter: [toQuery(documentFilters({ time: options.time }))],
                  should: bands.map((band) => ({ constant_score: { filter: { term: { fingerprint_bands: band } }, boost: 1 } })),
                  minimum_should_match: 1,
                },
              },
              sort: [{ _score: { order: 'desc' } }, ...documentSort({ order: 'asc' }).map((s) => ({ [s.field]: { order: s.dir } }))],
              size: bands.length === 0 ? 0 : size,
              _source: MEMBER_FIELDS,
            },
          ]),
        }),
      );
      return response.responses.map((r) => {
        if ('error' in r) throw asStoreError(new esErrors.ResponseError({ body: r, statusCode: r.status } as never), 'find band members');
        return r.hits.hits.map((h) => h._source!);
      });
    },

    async splitDocumentFigures(queries) {
      if (queries.length === 0) return [];
      const response = await call('split document figures', () =>
        client.msearch<DocumentFigures>({
          searches: queries.flatMap(({ query, since }) => [
            { index: index.documents },
            {
              query: toQuery(documentFilters(query)),
              // Hits from `since` on; the aggregations count what came before.
              post_filter: { range: { published_at: { gte: since } } },
              sort: documentSort({}).map((s) => ({ [s.field]: { order: s.dir } })),
              size: MAX_PAGE_SIZE,
              track_total_hits: true,
              _source: ['published_at', 'source', 'platform', 'metrics'],
              aggs: {
                before: {
                  filter: { range: { published_at: { lt: since } } },
                  aggs: {
                    first: { min: { field: 'published_at' } },
                    last: { max: { field: 'published_at' } },
                    reposts: { sum: { field: 'metrics.reposts' } },
                    comments: { sum: { field: 'metrics.comments' } },
                    sources: { terms: { field: 'source', size: FIGURE_TERMS } },
                    platforms: { terms: { field: 'platform', size: FIGURE_TERMS } },
                    hours: { date_histogram: { field: 'published_at', fixed_interval: '1h', min_doc_count: 1 } },
                  },
                },
              },
            },
          ]),
        }),
      );
      return response.responses.map((r) => {
        if ('error' in r) throw asStoreError(new esErrors.ResponseError({ body: r, statusCode: r.status } as never), 'split document figures');
        const since = { total: totalOf(r.hits.total), items: r.hits.hits.map((h) => h._source!) };
        type Terms = { buckets: Array<{ key: string | number; doc_count: number }>; sum_other_doc_count?: number };
        const a = r.aggregations!.before as unknown as { doc_count: number; first: { value: number | null }; last: { value: number | null }; reposts: { value: number }; comments: { value: number }; sources: Terms; platforms: Terms; hours: Terms };
        // Counted exactly only if every source and platform came back.
        if ((a.sources.sum_other_doc_count ?? 0) > 0 || (a.platforms.sum_other_doc_count ?? 0) > 0) return { since };
        const buckets = (t: Terms, key: (k: string | number) => string) => t.buckets.map((b) => ({ key: key(b.key), count: b.doc_count }));
        return {
          since,
          before: {
            count: a.doc_count,
            ...(a.doc_count > 0 && a.first.value !== null && a.last.value !== null ? { first_at: new Date(a.first.value).toISOString(), last_at: new Date(a.last.value).toISOString() } : {}),
            reposts: a.reposts.value ?? 0,
            comments: a.comments.value ?? 0,
            sources: buckets(a.sources, String),
            platforms: buckets(a.platforms, String),
            hours: buckets(a.hours, (k) => new Date(k).toISOString()),
          },
        };
      });
    },

    async listMembers(options) {
      const response = await call('list members', () =>
        client.search<BandMember>({
          index: index.documents,
          query: toQuery(documentFilters({ time: options.time })),
          sort: documentSort({ order: 'desc' }).map((s) => ({ [s.field]: { order: s.dir } })),
          size: Math.min(Math.max(options.size, 0), MAX_MEMBERS_PAGE),
          _source: MEMBER_FIELDS,
        }),
      );
      return response.hits.hits.map((h) => h._source!);
    },

    async summarizeDocuments(query) {
      const response = await call('summarize documents', () =>
        client.search({
          index: index.documents,
          query: toQuery(documentFilters(query)),
          size: 0,
          track_total_hits: true,
          aggs: {
            first: { min: { field: 'published_at' } },
            last: { max: { field: 'published_at' } },
            sources: { terms: { field: 'source', size: 100 } },
            platforms: { terms: { field: 'platform', size: 10 } },
            reposts: { sum: { field: 'metrics.reposts' } },
            comments: { sum: { field: 'metrics.comments' } },
            hours: { date_histogram: { field: 'published_at', fixed_interval: '1h', min_doc_count: 1 } },
          },
        }),
      );
      const a = response.aggregations as Record<string, { value?: number | null; buckets?: Array<{ key: string; doc_count: number }> }>;
      const count = totalOf(response.hits.total);
      const time = (v: number | null | undefined) => (count > 0 && typeof v === 'number' ? new Date(v).toISOString() : undefined);
      const buckets = (name: string) => (a[name]?.buckets ?? []).map((b) => ({ key: String(b.key), count: b.doc_count }));
      return {
        count,
        ...(time(a.first?.value) ? { first_at: time(a.first?.value)! } : {}),
        ...(time(a.last?.value) ? { last_at: time(a.last?.value)! } : {}),
        sources: buckets('sources'),
        platforms: buckets('platforms'),
        reposts: a.reposts?.value ?? 0,
        comments: a.comments?.value ?? 0,
        peak_per_hour: Math.max(0, ...(a.hours?.buckets ?? []).map((b) => b.doc_count)),
      };
    },

    async createAlert(alert) {
      try {
        const response = await call('create alert', () =>
          client.index({ index: index.alerts, id: alert.id, op_type: 'create', document: alert }),
        );
        return { value: alert, version: `${response._seq_no}:${response._primary_term}` };
      } catch (err) {
        if (isStatus(err, 409)) throw new ShaobingError('SB_STORE_EXISTS', `alert ${alert.id} already exists`, { cause: err });
        throw err;
      }
    },

    async getAlert(id) {
      const response = await call('get alert', () => client.get<Alert>({ index: index.alerts, id }, { ignore: [404] }));
      return response.found ? versioned(response) : undefined;
    },

    async updateAlert(alert, expected) {
      const [seqNo, primaryTerm] = expected.split(':').map(Number);
      try {
        const response = await call('update alert', () =>
          client.index({ index: index.alerts, id: alert.id, if_seq_no: seqNo!, if_primary_term: primaryTerm!, document: alert }),
        );
        return { value: alert, version: `${response._seq_no}:${response._primary_term}` };
      } catch (err) {
        if (isStatus(err, 409)) throw new ShaobingError('SB_STORE_CONFLICT', `alert ${alert.id} changed since version ${expected}`, { cause: err });
        throw err;
      }
    },

    async getAlerts(ids) {
      if (ids.length === 0) return new Map();
      const response = await call('get alerts', () => client.mget<Alert>({ index: index.alerts, ids: [...ids] }));
      const found = new Map<string, Versioned<Alert>>();
      for (const doc of response.docs) {
        if ('error' in doc) throw asStoreError(new esErrors.ResponseError({ body: doc, statusCode: 500 } as never), 'get alerts');
        if (doc.found) found.set(doc._id, versioned(doc));
      }
      return found;
    },

    async writeAlerts(writes) {
      if (writes.length === 0) return [];
      const response = await call('write alerts', () =>
        client.bulk({
          operations: writes.flatMap(({ alert, expected }) => {
            const [seqNo, primaryTerm] = (expected ?? '').split(':').map(Number);
            return [
              expected === undefined ? { create: { _index: index.alerts, _id: alert.id } } : { index: { _index: index.alerts, _id: alert.id, if_seq_no: seqNo!, if_primary_term: primaryTerm! } },
              alert,
            ];
          }),
        }),
      );
      return response.items.map((item, i) => {
        const result = (item.create ?? item.index)!;
        if (result.status === 409) return undefined;
        if (result.error) {
          const retriable = result.status === 429 || result.status >= 500;
          throw new ShaobingError(retriable ? 'SB_STORE_UNAVAILABLE' : 'SB_STORE_REJECTED', `write alert ${result._id}: ${result.error.type}: ${result.error.reason ?? ''}`, { retriable });
        }
        return { value: writes[i]!.alert, version: `${result._seq_no}:${result._primary_term}` };
      });
    },

    async searchAlerts(query) {
      const response = await search<Alert>(index.alerts, alertFilters(query), alertSort(query), query.size, query.offset);
      return { total: totalOf(response.hits.total), items: response.hits.hits.map(versioned) };
    },

    aggregateAlerts: (query, aggregation) => aggregate(index.alerts, alertFilters(query), aggregation),

    async putDeliveries(deliveries) {
      const invalid: BulkItemFailure[] = deliveries.flatMap((d) => {
        const parsed = Delivery.safeParse(d);
        return parsed.success ? [] : [{ id: String(d?.id), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), retriable: false }];
      });
      if (invalid.length > 0) throw new StoreBulkError(invalid);
      if (deliveries.length === 0) return;
      const response = await call('bulk index deliveries', () =>
        client.bulk({ operations: deliveries.flatMap((d) => [{ index: { _index: index.deliveries, _id: d.id } }, d]) }),
      );
      if (response.errors) throw new StoreBulkError(bulkFailures(response));
    },

    async searchDeliveries(query) {
      const response = await search<Delivery>(index.deliveries, deliveryFilters(query), deliverySort(query), query.size, query.offset);
      return { total: totalOf(response.hits.total), items: response.hits.hits.map((h) => h._source!) };
    },

    async putAudit(entries) {
      const invalid: BulkItemFailure[] = entries.flatMap((e) => {
        const parsed = AuditEntry.safeParse(e);
        return parsed.success ? [] : [{ id: String(e?.id), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), retriable: false }];
      });
      if (invalid.length > 0) throw new StoreBulkError(invalid);
      if (entries.length === 0) return;
      // `create`: an entry never changes, so a retried write of the same id is dropped (409), not an error.
      const response = await call('bulk index audit entries', () =>
        client.bulk({ operations: entries.flatMap((e) => [{ create: { _index: index.audit, _id: e.id } }, e]) }),
      );
      const failures = response.items.flatMap((item) => {
        const result = item.create;
        if (!result?.error || result.status === 409) return [];
        return [{ id: String(result._id), reason: `${result.error.type}: ${result.error.reason ?? ''}`, retriable: result.status === 429 || result.status >= 500 }];
      });
      if (failures.length > 0) throw new StoreBulkError(failures);
    },

    async searchAudit(query) {
      const response = await search<AuditEntry>(index.audit, auditFilters(query), auditSort(), query.size, query.offset);
      return { total: totalOf(response.hits.total), items: response.hits.hits.map((h) => h._source!) };
    },

    async acquireLease(name, owner, ttlMs, options = {}) {
      const now = Date.now();
      const take = (position: number): Lease => ({ owner, until: new Date(now + ttlMs).toISOString(), position });
      // A holder renewing needs no read: its last write's version proves nobody wrote since.
      const mine = options.renew ? holding.get(leaseKey(name, owner)) : undefined;
      if (mine) {
        const lease = take(mine.position + (options.advance ? 1 : 0));
        const written = await call('renew lease', () =>
          client.index({ index: index.leases, id: name, if_seq_no: mine.seqNo, if_primary_term: mine.primaryTerm, document: lease }, { ignore: [409] }),
        );
        // 409: someone wrote since; perhaps only to say they wait, which the read below tells.
        if (written.result !== undefined && written._seq_no !== undefined) {
          holding.set(leaseKey(name, owner), { seqNo: written._seq_no, primaryTerm: written._primary_term!, position: lease.position });
          return { previousOwner: owner, position: lease.position, contended: false };
        }
      }
      // A get is real-time, and the conditional write below makes the take atomic.
      const current = await call('get lease', () => client.get<Lease>({ index: index.leases, id: name }, { ignore: [404] }));
      const held = current.found ? current._source : undefined;
      const version = { if_seq_no: current._seq_no!, if_primary_term: current._primary_term! };
      if (options.renew ? !held || held.owner !== owner || Date.parse(held.until) === 0 : held && held.owner !== owner && Date.parse(held.until) > now) {
        // Refused while someone else holds it: say so once, for the holder's next renewal to see.
        if (!options.renew && held && held.waiting === undefined) {
          await call('wait for lease', () => client.index({ index: index.leases, id: name, ...version, document: { ...held, waiting: owner } }, { ignore: [409] }));
        }
        return undefined;
      }
      const lease = take((held?.position ?? 0) + (options.advance ? 1 : 0));
      try {
        const written = await call('take lease', () =>
          held ? client.index({ index: index.leases, id: name, ...version, document: lease }) : client.index({ index: index.leases, id: name, op_type: 'create', document: lease }),
        );
        holding.set(leaseKey(name, owner), { seqNo: written._seq_no!, primaryTerm: written._primary_term!, position: lease.position });
        return { ...(held ? { previousOwner: held.owner } : {}), position: lease.position, contended: held?.waiting !== undefined && held.waiting !== owner };
      } catch (err) {
        if (isStatus(err, 409)) return undefined;
        throw err;
      }
    },

    async releaseLease(name, owner) {
      const key = leaseKey(name, owner);
      const mine = holding.get(key);
      holding.delete(key);
      // Kept, expired, so that the next holder learns who held it last. 409: written since.
      if (mine) {
        const freed: Lease = { owner, until: new Date(0).toISOString(), position: mine.position };
        const written = await call('release lease', () =>
          client.index({ index: index.leases, id: name, if_seq_no: mine.seqNo, if_primary_term: mine.primaryTerm, document: freed }, { ignore: [409] }),
        );
        if (written.result !== undefined) return;
      }
      const current = await call('get lease', () => client.get<Lease>({ index: index.leases, id: name }, { ignore: [404] }));
      if (!current.found || current._source?.owner !== owner) return;
      const freed: Lease = { owner, until: new Date(0).toISOString(), position: current._source.position ?? 0 };
      await call('release lease', () =>
        client.index({ index: index.leases, id: name, if_seq_no: current._seq_no!, if_primary_term: current._primary_term!, document: freed }, { ignore: [409] }),
      );
    },

    async putLeaseEntry(name, position, entry) {
      await call('write lease journal', () => client.index({ index: index.leases, id: journalId(name, position), document: { position, entry } }));
    },

    async getLeaseEntries(name, positions) {
      if (positions.length === 0) return new Map();
      const response = await call('read lease journal', () =>
        client.mget<{ position: number; entry: unknown }>({ index: index.leases, docs: positions.map((p) => ({ _id: journalId(name, p) })) }),
      );
      const entries = new Map<number, unknown>();
      response.docs.forEach((doc, i) => {
        const source = 'found' in doc && doc.found ? doc._source : undefined;
        if (source && source.position === positions[i]) entries.set(positions[i]!, source.entry);
      });
      return entries;
    },

    async refresh(only) {
      await call('refresh', () => client.indices.refresh({ index: only === 'documents' ? [index.documents] : [index.documents, index.alerts, index.deliveries, index.audit] }));
    },

    close() {
      closed ??= client.close();
      return closed;
    },
  };
  return store;
}

function bulkFailures(response: estypes.BulkResponse): BulkItemFailure[] {
  return response.items.flatMap((item) => {
    const result = item.index;
    if (!result?.error) return [];
    const status = result.status;
    return [{ id: String(result._id), reason: `${result.error.type}: ${result.error.reason ?? ''}`, retriable: status === 429 || status >= 500 }];
  });
}

function toQuery(filters: Filter[]): estypes.QueryDslQueryContainer {
  if (filters.length === 0) return { match_all: {} };
  return {
    bool: {
      filter: filters.map((f): estypes.QueryDslQueryContainer => {
        switch (f.kind) {
          case 'terms':
            return { terms: { [f.field]: [...f.values] } };
          case 'range':
            return { range: { [f.field]: { ...(f.range.from ? { gte: f.range.from } : {}), ...(f.range.to ? { lt: f.range.to } : {}) } } };
          case 'number_range':
            return { range: { [f.field]: { ...f.range } } };
          case 'tokens':
            return { match: { tokens: { query: f.values.join(' '), operator: 'and' } } };
          case 'exists':
            // A non-empty list of records: the ids of its records exist.
            return { exists: { field: `${f.field}.id` } };
        }
      }),
    },
  };
}

function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

function isStatus(err: unknown, status: number): boolean {
  const cause = err instanceof ShaobingError ? err.cause : err;
  return cause instanceof esErrors.ResponseError && cause.statusCode === status;
}

function asStoreError(err: unknown, what: string): ShaobingError {
  if (err instanceof ShaobingError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof esErrors.ResponseError) {
    const status = err.statusCode ?? 0;
    const retriable = status === 429 || status >= 500 || status === 0;
    return new ShaobingError(retriable ? 'SB_STORE_UNAVAILABLE' : 'SB_STORE_REJECTED', `${what}: HTTP ${status}: ${message}`, { cause: err, retriable });
  }
  if (err instanceof esErrors.ElasticsearchClientError && !(err instanceof esErrors.ProductNotSupportedError || err instanceof esErrors.ConfigurationError)) {
    return new ShaobingError('SB_STORE_UNAVAILABLE', `${what}: ${message}`, { cause: err });
  }
  return new ShaobingError('SB_STORE_REJECTED', `${what}: ${message}`, { cause: err });
}

/** Distinct sources (or platforms) of a cluster's older documents counted at once; more, and the cluster is summarised by the store. */
const FIGURE_TERMS = 2000;

const MEMBER_FIELDS = ['id', 'cluster_id', 'published_at', 'fingerprint', 'parent_id'];

/** Chinese is searched through jieba tokens the pipeline made, so the engine needs no Chinese plugin. */
const WHITESPACE_ANALYSIS: estypes.IndicesIndexSettingsAnalysis = {
  analyzer: { shaobing_tokens: { type: 'custom', tokenizer: 'whitespace', filter: ['lowercase'] } },
};

const keyword = { type: 'keyword' } as const;
const date = { type: 'date' } as const;
const tokensField = { type: 'text', analyzer: 'shaobing_tokens' } as const;
const stored = { type: 'object', enabled: false } as const;

const DOCUMENT_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    platform: keyword,
    source: keyword,
    url: keyword,
    title: { type: 'text', index: false },
    text: { type: 'text', index: false },
    html: { type: 'text', index: false },
    author: keyword,
    published_at: date,
    fetched_at: date,
    indexed_at: date,
    metrics: { properties: { reposts: { type: 'long' }, comments: { type: 'long' }, likes: { type: 'long' }, author_followers: { type: 'long' } } },
    author_verified: { type: 'boolean' },
    author_tier: keyword,
    parent_id: keyword,
    lang: keyword,
    tokens: tokensField,
    cluster_id: keyword,
    fingerprint: { type: 'keyword', index: false, doc_values: false },
    fingerprint_bands: keyword,
    topics: keyword,
    matches: stored,
    sentiment: { type: 'float' },
    level: { type: 'byte' },
  },
};

const ALERT_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    topic: keyword,
    topic_name: keyword,
    cluster_id: keyword,
    policy: keyword,
    level: { type: 'byte' },
    status: keyword,
    title: { type: 'text', index: false },
    tokens: tokensField,
    first_seen_at: date,
    last_seen_at: date,
    opened_at: date,
    updated_at: date,
    doc_count: { type: 'integer' },
    sources: keyword,
    platforms: keyword,
    total_reposts: { type: 'long' },
    assignee: keyword,
    closed_doc_count: { type: 'integer' },
    history: stored,
    outbox: { properties: { id: keyword } },
  },
};

/** Who changed what: before/after are kept as given, never indexed (they are any shape). */
const AUDIT_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    at: date,
    user: keyword,
    action: keyword,
    target: keyword,
    before: stored,
    after: stored,
    note: { type: 'text', index: false },
    ip: keyword,
  },
};

/** The notifier's delivery log: who was tried on which channel, with what result (recipients masked). */
interface Lease {
  owner: string;
  until: string;
  /** The journal's position (absent in leases written by older versions: 0). */
  position: number;
  /** Who asked for the lease while it was held; cleared by the next write of its holder. */
  waiting?: string;
}

/** Journal entries share the leases' index: a ring of ids per lease, each entry saying its position. */
function journalId(name: string, position: number): string {
  return `${name}#journal:${position % LEASE_JOURNAL_SIZE}`;
}

function leaseKey(name: string, owner: string): string {
  return `${name}\u0000${owner}`;
}

/** Journal entries are kept as given, never indexed. */
const LEASE_MAPPINGS: estypes.MappingTypeMapping = { dynamic: false, properties: { owner: keyword, until: date, position: { type: 'long' }, entry: stored } };

const DELIVERY_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: keyword,
    alert_id: keyword,
    event_id: keyword,
    person: keyword,
    channel: keyword,
    recipient: keyword,
    attempt: { type: 'integer' },
    status: keyword,
    error: { type: 'text', index: false },
    latency_ms: { type: 'float' },
    at: date,
  },
};
