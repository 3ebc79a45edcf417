import { queryTokens, type AlertQuery, type AuditQuery, type DeliveryQuery, type DocumentQuery, type NumberRange, type TimeRange } from './types';

/**
 * Both backends translate the same small query model, so a search means one thing whichever
 * engine answers it: the typed queries become these filters and sorts, then each backend renders
 * them as Elasticsearch DSL or as SQL.
 */

export type Filter =
  | { kind: 'terms'; field: string; values: ReadonlyArray<string | number> }
  | { kind: 'range'; field: string; range: TimeRange }
  | { kind: 'number_range'; field: string; range: NumberRange }
  | { kind: 'tokens'; field: 'tokens'; values: string[] }
  | { kind: 'exists'; field: string };

export interface SortKey {
  field: string;
  dir: 'asc' | 'desc';
}

function terms(field: string, values: ReadonlyArray<string | number> | undefined): Filter[] {
  return values && values.length > 0 ? [{ kind: 'terms', field, values }] : [];
}

function range(field: string, r: TimeRange | undefined): Filter[] {
  return r && (r.from !== undefined || r.to !== undefined) ? [{ kind: 'range', field, range: r }] : [];
}

function numberRange(field: string, r: NumberRange | undefined): Filter[] {
  return r && Object.values(r).some((v) => v !== undefined) ? [{ kind: 'number_range', field, range: r }] : [];
}

function tokens(text: string | undefined): Filter[] {
  const values = queryTokens(text);
  return values.length > 0 ? [{ kind: 'tokens', field: 'tokens', values }] : [];
}

export function documentFilters(q: DocumentQuery): Filter[] {
  return [
    ...terms('id', q.id),
    ...range('published_at', q.time),
    ...numberRange('sentiment', q.sentiment),
    ...terms('platform', q.platform),
    ...terms('source', q.source),
    ...terms('topics', q.topic),
    ...terms('level', q.level),
    ...terms('cluster_id', q.cluster_id),
    ...terms('fingerprint_bands', q.fingerprint_bands),
    ...tokens(q.text),
  ];
}

export function alertFilters(q: AlertQuery): Filter[] {
  return [
    ...range('last_seen_at', q.time),
    ...range('opened_at', q.opened),
    ...terms('level', q.level),
    ...terms('status', q.status),
    ...terms('topic', q.topic),
    ...terms('platforms', q.platform),
    ...terms('cluster_id', q.cluster_id),
    ...tokens(q.text),
    ...(q.with_outbox ? [{ kind: 'exists', field: 'outbox' } as const] : []),
  ];
}

export function deliveryFilters(q: DeliveryQuery): Filter[] {
  return [
    ...range('at', q.time),
    ...terms('alert_id', q.alert_id),
    ...terms('event_id', q.event_id),
    ...terms('person', q.person),
    ...terms('channel', q.channel),
    ...terms('status', q.status),
  ];
}

export function auditFilters(q: AuditQuery): Filter[] {
  return [...range('at', q.time), ...terms('user', q.user), ...terms('action', q.action), ...terms('target', q.target)];
}

/** Newest first; ids are time-ordered, so entries of one millisecond keep their order too. */
export function auditSort(): SortKey[] {
  return [{ field: 'at', dir: 'desc' }, { field: 'id', dir: 'desc' }];
}

export function deliverySort(q: DeliveryQuery): SortKey[] {
  return [{ field: 'at', dir: q.order ?? 'desc' }, { field: 'id', dir: 'asc' }];
}

/** `id` last, so pages are stable when times tie. */
export function documentSort(q: DocumentQuery): SortKey[] {
  return [{ field: 'published_at', dir: q.order ?? 'desc' }, { field: 'id', dir: 'asc' }];
}

export function alertSort(q: AlertQuery): SortKey[] {
  const recent: SortKey = { field: 'last_seen_at', dir: 'desc' };
  const tail: SortKey = { field: 'id', dir: 'asc' };
  return q.order === 'severity' ? [{ field: 'level', dir: 'asc' }, recent, tail] : [recent, tail];
}
