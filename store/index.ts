import type { Config } from '../core/config';
import type { EmbeddedDatabase } from '../core/embedded-db';
import type { Logger } from '../core/logger';
import { createElasticsearchStore } from './elasticsearch';
import { createEmbeddedStore } from './embedded';
import type { Store } from './types';

export type { Store, Versioned, DocumentQuery, AlertQuery, Aggregation, Bucket, SearchResult } from './types';
export { StoreBulkError } from './types';

export interface CreateStoreOptions {
  log?: Logger;
  openDatabase: () => Promise<EmbeddedDatabase>;
}

/** Elasticsearch when a URL is configured, else the embedded store in data_dir. */
export function createStore(config: Config, options: CreateStoreOptions): Store {
  const es = config.store.elasticsearch;
  return es
    ? createElasticsearchStore({ config: es, ...(options.log ? { log: options.log } : {}) })
    : createEmbeddedStore({ openDatabase: options.openDatabase });
}
