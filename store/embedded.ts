import type { PGlite } from '@electric-sql/pglite';
import type { EmbeddedDatabase } from '../core/embedded-db';
import { isShaobingError, ShaobingError } from '../core/errors';
import { DEFAULT_TIME_ZONE } from '../core/time';
import { AuditEntry, Delivery, type Alert, type IndexedDocument } from '../core/records';
import { countFigures } from './figures';
import { alertFilters, alertSort, auditFilters, auditSort, deliveryFilters, deliverySort, documentFilters, documentSort, type Filter, type SortKey } from './query';
import { DOCUMENT_SUM_FIELDS, LEASE_JOURNAL_SIZE, MAX_MEMBERS_PAGE, MAX_PAGE_SIZE, pageSize, queryTokens, screenDocuments, StoreBulkError, type Aggregation, type BandMember, type Bucket, type DocumentFigures, type SplitFigures, type Store, type Versioned } from './types';

export interface EmbeddedStoreOptions {
  /** Opened by init(); released by close(). */
  openDatabase: () => Promise<EmbeddedDatabase>;
}

/**
 * The store for small installs and trials: tables in the embedded PostgreSQL (PGlite), with the
 * searchable fields as columns beside the whole record as JSON, so that a query means what it
 * means in Elasticsearch (the contract suite checks it).
 */

interface TableSpec {
  name: 'documents' | 'alerts' | 'deliveries' | 'audit';
  /**
   * Searchable columns, taken from the record's field of the same name unless `derive` says
   * otherwise; array columns match a filter when any element does, as in Elasticsearch.
   */
  columns: Record<string, { type: string; array?: boolean; derive?: (record: Record<string, unknown>) => unknown }>;
  timeField: string;
}

const DOCUMENTS: TableSpec = {
  name: 'documents',
  timeField: 'published_at',
  columns: {
    published_at: { type: 'timestamptz' },
    platform: { type: 'text' },
    source: { type: 'text' },
    topics: { type: 'text', array: true },
    level: { type: 'smallint' },
    cluster_id: { type: 'text' },
    author_tier: { type: 'text' },
    /** `real`, like the engine's float field, so a bound such as 0.2 cuts the same on both. */
    sentiment: { type: 'real' },
    fingerprint_bands: { type: 'text', array: true },
    tokens: { type: 'text', array: true, derive: (r) => tokenArray(r.tokens as string | undefined) },
  },
};

const ALERTS: TableSpec = {
  name: 'alerts',
  timeField: 'last_seen_at',
  columns: {
    last_seen_at: { type: 'timestamptz' },
    opened_at: { type: 'timestamptz' },
    level: { type: 'smallint' },
    status: { type: 'text' },
    topic: { type: 'text' },
    cluster_id: { type: 'text' },
    platforms: { type: 'text', array: true },
    sources: { type: 'text', array: true },
    tokens: { type: 'text', array: true, derive: (r) => tokenArray(r.tokens as string | undefined) },
    /** Whether the outbox holds events, for the start-up sweep. */
    outbox: { type: 'boolean', derive: (r) => ((r.outbox as unknown[] | undefined)?.length ?? 0) > 0 },
  },
};

const DELIVERIES: TableSpec = {
  name: 'deliveries',
  timeField: 'at',
  columns: {
    at: { type: 'timestamptz' },
    alert_id: { type: 'text' },
    event_id: { type: 'text' },
    person: { type: 'text' },
    channel: { type: 'text' },
    status: { type: 'text' },
  },
};

/** The audit log; `user` is a reserved word in SQL, hence the quoted column names below. */
const AUDIT: TableSpec = {
  name: 'audit',
  timeField: 'at',
  columns: {
    at: { type: 'timestamptz' },
    user: { type: 'text' },
    action: { type: 'text' },
    target: { type: 'text' },
  },
};

export function createEmbeddedStore(options: EmbeddedStoreOptions): Store {
  let database: EmbeddedDatabase | undefined;
  let initialised: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  const db = async (): Promise<PGlite> => {
    if (closed) throw new ShaobingError('SB_STORE_STOPPED', 'the embedded store has been closed');
    await store.init();
    return database!.db;
  };

  const rowValues = (spec: TableSpec, record: object) =>
    Object.entries(spec.columns).map(([name, column]) =>
      column.derive ? column.derive(record as Record<string, unknown>) : ((record as Record<string, unknown>)[name] ?? null),
    );

  const select = async <T>(spec: TableSpec, filters: Filter[], sort: SortKey[], size?: number, offset?: number) => {
    const where = toWhere(spec, filters);
    const order = sort.map((s) => `${s.field === 'id' ? 'id' : s.field} ${s.dir}`).join(', ');
    const pg = await db();
    const [count, page] = await Promise.all([
      pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${spec.name} ${where.sql}`, where.params),
      pg.query<{ body: T; version?: number }>(
        `SELECT body${spec === ALERTS ? ', version' : ''} FROM ${spec.name} ${where.sql} ORDER BY ${order} LIMIT ${pageSize(size)} OFFSET ${Math.max(0, offset ?? 0)}`,
        where.params,
      ),
    ]);
    return { total: count.rows[0]?.n ?? 0, rows: page.rows };
  };

  const aggregate = async (spec: TableSpec, filters: Filter[], aggregation: Aggregation<string, string, string>): Promise<Bucket[]> => {
    const where = toWhere(spec, filters);
    const pg = await db();
    if ('terms' in aggregation) {
      const column = spec.columns[aggregation.terms];
      if (!column) throw new ShaobingError('SB_STORE_REJECTED', `cannot aggregate ${spec.name} by ${aggregation.terms}`);
      const key = column.array ? `unnest(${aggregation.terms})` : aggregation.terms;
      const { rows } = await pg.query<{ key: string; count: number }>(
        `SELECT key::text AS key, count(*)::int AS count FROM (SELECT ${key} AS key FROM ${spec.name} ${where.sql}) t
         WHERE key IS NOT NULL GROUP BY key ORDER BY count DESC, key ASC LIMIT ${Math.max(1, aggregation.size ?? 10)}`,
        where.params,
      );
      return rows;
    }
    const field = aggregation.field ?? spec.timeField;
    if (spec.columns[field]?.type !== 'timestamptz') throw new ShaobingError('SB_STORE_REJECTED', `cannot bucket ${spec.name} by ${field}`);
    const { sum } = aggregation;
    if (sum !== undefined && !(spec === DOCUMENTS && (DOCUMENT_SUM_FIELDS as readonly string[]).includes(sum))) {
      throw new ShaobingError('SB_STORE_REJECTED', `cannot sum ${spec.name} by ${sum}`);
    }
    const zone = `$${where.params.length + 1}`;
    const { rows } = await pg.query<{ key: Date; count: number; sum: number }>(
      `SELECT date_trunc('${aggregation.date_histogram}', ${field} AT TIME ZONE ${zone}) AT TIME ZONE ${zone} AS key, count(*)::int AS count
         ${sum ? `, coalesce(sum((body->'metrics'->>'${sum}')::bigint), 0)::float8 AS sum` : ''}
       FROM ${spec.name} ${where.sql ? `${where.sql} AND` : 'WHERE'} ${field} IS NOT NULL GROUP BY 1 ORDER BY 1`,
      [...where.params, aggregation.time_zone ?? DEFAULT_TIME_ZONE],
    );
    return rows.map((r) => ({ key: r.key.toISOString(), count: r.count, ...(sum ? { sum: r.sum } : {}) }));
  };

  const insertDocuments = async (docs: IndexedDocument[]) => {
    // Later entries win, as they would in one bulk request.
    const unique = [...new Map(docs.map((d) => [d.id, d])).values()];
    const columns = Object.keys(DOCUMENTS.columns);
    const pg = await db();
    await pg.transaction(async (tx) => {
      for (const doc of unique) {
        const values = rowValues(DOCUMENTS, doc);
        const placeholders = values.map((_, i) => `$${i + 2}`).join(', ');
        await tx.query(
          `INSERT INTO documents (id, ${columns.join(', ')}, body) VALUES ($1, ${placeholders}, $${values.length + 2})
           ON CONFLICT (id) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, body = excluded.body`,
          [doc.id, ...values, JSON.stringify(doc)],
        );
      }
    });
  };

  const store: Store = {
    kind: 'embedded',

    init() {
      initialised ??= (async () => {
        database = await options.openDatabase();
        const existing = await database.db.query<{ table_name: string; column_name: string }>(
          `SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN ('documents', 'alerts', 'deliveries')`,
        );
        const had = new Set(existing.rows.map((r) => `${r.table_name}.${r.column_name}`));
        const ddl = [DOCUMENTS, ALERTS, DELIVERIES, AUDIT].map((spec) => {
          const extra = spec === ALERTS ? ', version bigint NOT NULL' : '';
          // Columns are added one by one so that a data dir made by an older version gains the new ones.
          const columns = Object.entries(spec.columns).map(
            ([name, c]) => `ALTER TABLE ${spec.name} ADD COLUMN IF NOT EXISTS "${name}" ${c.type}${c.array ? '[]' : ''};`,
          );
          return `CREATE TABLE IF NOT EXISTS ${spec.name} (id text PRIMARY KEY${extra}, body jsonb NOT NULL);
            ${columns.join('\n')}
            CREATE INDEX IF NOT EXISTS ${spec.name}_time ON ${spec.name} (${spec.timeField});
            ${'tokens' in spec.columns ? `CREATE INDEX IF NOT EXISTS ${spec.name}_tokens ON ${spec.name} USING gin (tokens);` : ''}`;
        });
        ddl.push('CREATE INDEX IF NOT EXISTS documents_bands ON documents USING gin (fingerprint_bands);');
        ddl.push('CREATE TABLE IF NOT EXISTS leases (name text PRIMARY KEY, owner text NOT NULL, until timestamptz NOT NULL);');
        ddl.push('ALTER TABLE leases ADD COLUMN IF NOT EXISTS position bigint NOT NULL DEFAULT 0;');
        ddl.push('ALTER TABLE leases ADD COLUMN IF NOT EXISTS waiting text;');
        ddl.push('CREATE TABLE IF NOT EXISTS lease_journal (name text NOT NULL, slot int NOT NULL, position bigint NOT NULL, entry jsonb NOT NULL, PRIMARY KEY (name, slot));');
        // Only one process opens a data dir, so a lease left here was held by one that died: free
        // it at once rather than making a restart wait for it to expire.
        ddl.push(`UPDATE leases SET until = 'epoch';`);
        await database.db.exec(ddl.join('\n'));
        // A plain column new to an existing table is filled from the records already there, else they would never match its filters.
        for (const spec of [DOCUMENTS, ALERTS, DELIVERIES]) {
          if (!had.has(`${spec.name}.id`)) continue;
          for (const [name, column] of Object.entries(spec.columns)) {
            if (had.has(`${spec.name}.${name}`) || column.derive || column.array) continue;
            await database.db.exec(`UPDATE ${spec.name} SET ${name} = (body->>'${name}')::${column.type}`);
          }
        }
      })();
      return initialised;
    },

    async putDocuments(docs) {
      const { valid, failures } = screenDocuments(docs);
      if (valid.length > 0) await insertDocuments(valid);
      if (failures.length > 0) throw new StoreBulkError(failures);
    },


    async getDocument(id) {
      const { rows } = await (await db()).query<{ body: IndexedDocument }>('SELECT body FROM documents WHERE id = $1', [id]);
      return rows[0]?.body;
    },

    async searchDocuments(query) {
      const { total, rows } = await select<IndexedDocument>(DOCUMENTS, documentFilters(query), documentSort(query), query.size, query.offset);
      return { total, items: rows.map((r) => r.body) };
    },

    aggregateDocuments: (query, aggregation) => aggregate(DOCUMENTS, documentFilters(query), aggregation),

    async findBandMembers(lookups, options) {
      const pg = await db();
      const results: BandMember[][] = [];
      // One statement at a time: PGlite serves one query at once anyway.
      for (const bands of lookups) {
        if (bands.length === 0) {
          results.push([]);
          continue;
        }
        const where = toWhere(DOCUMENTS, documentFilters({ fingerprint_bands: [...bands], time: options.time }));
        const shared = `cardinality(ARRAY(SELECT unnest(fingerprint_bands) INTERSECT SELECT unnest($${where.params.length + 1}::text[])))`;
        const { rows } = await pg.query<{ body: IndexedDocument }>(
          `SELECT body FROM documents ${where.sql} ORDER BY ${shared} DESC, published_at ASC, id ASC LIMIT ${pageSize(options.size ?? 20)}`,
          [...where.params, [...bands]],
        );
        results.push(rows.map(({ body }) => bandMember(body)));
      }
      return results;
    },

    async splitDocumentFigures(queries) {
      const results: SplitFigures[] = [];
      const figures = ({ published_at, source, platform, metrics }: IndexedDocument): DocumentFigures => ({ published_at, source, platform, ...(metrics ? { metrics } : {}) });
      for (const { query, since } of queries) {
        const later = (a?: string) => (a === undefined || Date.parse(a) < Date.parse(since) ? since : a);
        const earlier = (a?: string) => (a === undefined || Date.parse(a) > Date.parse(since) ? since : a);
        const page = await store.searchDocuments({ ...query, time: { ...query.time, from: later(query.time?.from) }, size: MAX_PAGE_SIZE });
        const where = toWhere(DOCUMENTS, documentFilters({ ...query, time: { ...query.time, to: earlier(query.time?.to) } }));
        const { rows } = await (await db()).query<{ body: IndexedDocument }>(`SELECT body FROM documents ${where.sql}`, where.params);
        results.push({ before: countFigures(rows.map((r) => figures(r.body))), since: { total: page.total, items: page.items.map(figures) } });
      }
      return results;
    },

    async listMembers(options) {
      const where = toWhere(DOCUMENTS, documentFilters({ time: options.time }));
      const { rows } = await (await db()).query<{ body: IndexedDocument }>(
        `SELECT body FROM documents ${where.sql} ORDER BY published_at DESC, id ASC LIMIT ${Math.min(Math.max(options.size, 0), MAX_MEMBERS_PAGE)}`,
        where.params,
      );
      return rows.map(({ body }) => bandMember(body));
    },

    async summarizeDocuments(query) {
      const filters = documentFilters(query);
      const where = toWhere(DOCUMENTS, filters);
      const [totals, sources, platforms] = await Promise.all([
        (await db()).query<{ count: number; first_at: Date | null; last_at: Date | null; reposts: number; comments: number; peak: number }>(
          `SELECT count(*)::int AS count, min(published_at) AS first_at, max(published_at) AS last_at,
             coalesce(sum((body->'metrics'->>'reposts')::bigint), 0)::float8 AS reposts,
             coalesce(sum((body->'metrics'->>'comments')::bigint), 0)::float8 AS comments,
             coalesce((SELECT max(n) FROM (SELECT count(*)::int AS n FROM documents ${where.sql}
               GROUP BY date_trunc('hour', published_at AT TIME ZONE 'UTC')) hours), 0) AS peak
           FROM documents ${where.sql}`,
          where.params,
        ),
        aggregate(DOCUMENTS, filters, { terms: 'source', size: 100 }),
        aggregate(DOCUMENTS, filters, { terms: 'platform', size: 10 }),
      ]);
      const row = totals.rows[0]!;
      return {
        count: row.count,
        ...(row.first_at ? { first_at: row.first_at.toISOString() } : {}),
        ...(row.last_at ? { last_at: row.last_at.toISOString() } : {}),
        sources,
        platforms,
        reposts: row.reposts,
        comments: row.comments,
        peak_per_hour: row.peak,
      };
    },

    async createAlert(alert) {
      const values = rowValues(ALERTS, alert);
      const columns = Object.keys(ALERTS.columns);
      const { rows } = await (await db()).query(
        `INSERT INTO alerts (id, ${columns.join(', ')}, version, body) VALUES ($1, ${values.map((_, i) => `$${i + 2}`).join(', ')}, 1, $${values.length + 2})
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [alert.id, ...values, JSON.stringify(alert)],
      );
      if (rows.length === 0) throw new ShaobingError('SB_STORE_EXISTS', `alert ${alert.id} already exists`);
      return { value: alert, version: '1' };
    },

    async getAlert(id) {
      const { rows } = await (await db()).query<{ body: Alert; version: number }>('SELECT body, version FROM alerts WHERE id = $1', [id]);
      const row = rows[0];
      return row ? { value: row.body, version: String(row.version) } : undefined;
    },

    async updateAlert(alert, expected) {
      const values = rowValues(ALERTS, alert);
      const columns = Object.keys(ALERTS.columns);
      const { rows } = await (await db()).query<{ version: number }>(
        `UPDATE alerts SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, body = $${values.length + 2}, version = version + 1
         WHERE id = $1 AND version = $${values.length + 3} RETURNING version`,
        [alert.id, ...values, JSON.stringify(alert), Number(expected)],
      );
      const row = rows[0];
      if (!row) throw new ShaobingError('SB_STORE_CONFLICT', `alert ${alert.id} changed since version ${expected}`);
      return { value: alert, version: String(row.version) };
    },

    async getAlerts(ids) {
      const { rows } = await (await db()).query<{ body: Alert; version: number }>('SELECT body, version FROM alerts WHERE id = ANY($1::text[])', [[...ids]]);
      return new Map(rows.map((r) => [r.body.id, { value: r.body, version: String(r.version) }]));
    },

    async writeAlerts(writes) {
      const written: Array<Versioned<Alert> | undefined> = [];
      for (const { alert, expected } of writes) {
        try {
          written.push(expected === undefined ? await store.createAlert(alert) : await store.updateAlert(alert, expected));
        } catch (err) {
          if (!isShaobingError(err, 'SB_STORE_EXISTS') && !isShaobingError(err, 'SB_STORE_CONFLICT')) throw err;
          written.push(undefined);
        }
      }
      return written;
    },

    async searchAlerts(query) {
      const { total, rows } = await select<Alert>(ALERTS, alertFilters(query), alertSort(query), query.size, query.offset);
      return { total, items: rows.map((r): Versioned<Alert> => ({ value: r.body, version: String(r.version) })) };
    },

    aggregateAlerts: (query, aggregation) => aggregate(ALERTS, alertFilters(query), aggregation),

    async putDeliveries(deliveries) {
      const invalid = deliveries.flatMap((d) => {
        const parsed = Delivery.safeParse(d);
        return parsed.success ? [] : [{ id: String(d?.id), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), retriable: false }];
      });
      if (invalid.length > 0) throw new StoreBulkError(invalid);
      const unique = [...new Map(deliveries.map((d) => [d.id, d])).values()];
      const columns = Object.keys(DELIVERIES.columns);
      const pg = await db();
      await pg.transaction(async (tx) => {
        for (const delivery of unique) {
          const values = rowValues(DELIVERIES, delivery);
          await tx.query(
            `INSERT INTO deliveries (id, ${columns.join(', ')}, body) VALUES ($1, ${values.map((_, i) => `$${i + 2}`).join(', ')}, $${values.length + 2})
             ON CONFLICT (id) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}, body = excluded.body`,
            [delivery.id, ...values, JSON.stringify(delivery)],
          );
        }
      });
    },

    async searchDeliveries(query) {
      const { total, rows } = await select<Delivery>(DELIVERIES, deliveryFilters(query), deliverySort(query), query.size, query.offset);
      return { total, items: rows.map((r) => r.body) };
    },

    async putAudit(entries) {
      const invalid = entries.flatMap((e) => {
        const parsed = AuditEntry.safeParse(e);
        return parsed.success ? [] : [{ id: String(e?.id), reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), retriable: false }];
      });
      if (invalid.length > 0) throw new StoreBulkError(invalid);
      const columns = Object.keys(AUDIT.columns).map((c) => `"${c}"`);
      const pg = await db();
      await pg.transaction(async (tx) => {
        for (const entry of new Map(entries.map((e) => [e.id, e])).values()) {
          const values = rowValues(AUDIT, entry);
          // An entry never changes: a second write of the same id is a retry and is dropped.
          await tx.query(
            `INSERT INTO audit (id, ${columns.join(', ')}, body) VALUES ($1, ${values.map((_, i) => `$${i + 2}`).join(', ')}, $${values.length + 2})
             ON CONFLICT (id) DO NOTHING`,
            [entry.id, ...values, JSON.stringify(entry)],
          );
        }
      });
    },

    async searchAudit(query) {
      const { total, rows } = await select<AuditEntry>(AUDIT, auditFilters(query), auditSort(), query.size, query.offset);
      return { total, items: rows.map((r) => r.body) };
    },

    async acquireLease(name, owner, ttlMs, options = {}) {
      const now = Date.now();
      const until = new Date(now + ttlMs);
      const step = options.advance ? 1 : 0;
      const pg = await db();
      // A renewal never takes a freed lease: someone else may have held it meanwhile.
      if (options.renew) {
        const { rows } = await pg.query<{ position: string; waiting: string | null }>(
          `UPDATE leases SET until = $3, position = leases.position + $4, waiting = NULL FROM (SELECT waiting FROM leases WHERE name = $1) AS before
           WHERE leases.name = $1 AND owner = $2 AND until > 'epoch' RETURNING leases.position, before.waiting`,
          [name, owner, until, step],
        );
        return rows[0] ? { previousOwner: owner, position: Number(rows[0].position), contended: rows[0].waiting !== null } : undefined;
      }
      return pg.transaction(async (tx) => {
        const before = await tx.query<{ owner: string; waiting: string | null }>('SELECT owner, waiting FROM leases WHERE name = $1 FOR UPDATE', [name]);
        const { rows } = await tx.query<{ position: string }>(
          `INSERT INTO leases (name, owner, until, position) VALUES ($1, $2, $3, $5)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until, position = leases.position + $5, waiting = NULL
           WHERE leases.owner = excluded.owner OR leases.until <= $4 RETURNING position`,
          [name, owner, until, new Date(now), step],
        );
        const previous = before.rows[0];
        if (rows.length === 0) {
          await tx.query('UPDATE leases SET waiting = $2 WHERE name = $1 AND waiting IS NULL', [name, owner]);
          return undefined;
        }
        const contended = previous?.waiting != null && previous.waiting !== owner;
        return { ...(previous ? { previousOwner: previous.owner } : {}), position: Number(rows[0]!.position), contended };
      });
    },

    async releaseLease(name, owner) {
      // Kept, expired, so that the next holder learns who held it last.
      await (await db()).query(`UPDATE leases SET until = 'epoch', waiting = NULL WHERE name = $1 AND owner = $2`, [name, owner]);
    },

    async putLeaseEntry(name, position, entry) {
      await (await db()).query(
        `INSERT INTO lease_journal (name, slot, position, entry) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name, slot) DO UPDATE SET position = excluded.position, entry = excluded.entry`,
        [name, position % LEASE_JOURNAL_SIZE, position, JSON.stringify(entry)],
      );
    },

    async getLeaseEntries(name, positions) {
      const { rows } = await (await db()).query<{ position: string; entry: unknown }>(
        'SELECT position, entry FROM lease_journal WHERE name = $1 AND position = ANY($2::bigint[])',
        [name, positions],
      );
      return new Map(rows.map((r) => [Number(r.position), r.entry]));
    },

    async refresh() {
      await db();
    },

    close() {
      closed ??= (async () => {
        await initialised?.catch(() => undefined);
        await database?.release();
      })();
      return closed;
    },
  };
  return store;
}

function bandMember(d: IndexedDocument): BandMember {
  return {
    id: d.id,
    published_at: d.published_at,
    ...(d.cluster_id ? { cluster_id: d.cluster_id } : {}),
    ...(d.fingerprint ? { fingerprint: d.fingerprint } : {}),
    ...(d.parent_id ? { parent_id: d.parent_id } : {}),
  };
}

function toWhere(spec: TableSpec, filters: Filter[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const clauses = filters.map((f) => {
    const column = f.field === 'id' ? { type: 'text' } : spec.columns[f.field];
    if (!column) throw new ShaobingError('SB_STORE_REJECTED', `cannot filter ${spec.name} by ${f.field}`);
    switch (f.kind) {
      case 'terms': {
        const values = param(f.values.map(String));
        return column.array ? `${f.field} && ${values}::text[]` : `"${f.field}"::text = ANY(${values}::text[])`;
      }
      case 'range':
        return [f.range.from ? `${f.field} >= ${param(f.range.from)}::timestamptz` : '', f.range.to ? `${f.field} < ${param(f.range.to)}::timestamptz` : '']
          .filter(Boolean)
          .join(' AND ');
      case 'number_range': {
        const bounds = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
        return (Object.keys(bounds) as Array<keyof typeof bounds>)
          .filter((k) => f.range[k] !== undefined)
          .map((k) => `${f.field} ${bounds[k]} ${param(f.range[k])}::real`)
          .join(' AND ');
      }
      case 'tokens':
        return `tokens @> ${param(tokenArray(f.values.join(' ')))}::text[]`;
      case 'exists':
        return `${f.field} IS TRUE`;
    }
  });
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Lower-cased like the Elasticsearch field's analyzer, so `iPhone` finds `iphone`. */
function tokenArray(text: string | undefined): string[] {
  return queryTokens(text).map((t) => t.toLowerCase());
}
