import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config';
import { isShaobingError } from '../../core/errors';
import { YamlValidationError, type FileIssue } from '../../core/yaml-file';
import { PROJECT_ROOT } from '../support/cli';

const dir = mkdtempSync(join(tmpdir(), 'shaobing-config-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `c${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function issuesOf(path: string, env: NodeJS.ProcessEnv = {}): FileIssue[] {
  try {
    loadConfig(path, env);
  } catch (err) {
    if (err instanceof YamlValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('shaobing.yaml', () => {
  it('accepts the bundled example and fills in the defaults', () => {
    const config = loadConfig(join(PROJECT_ROOT, 'shaobing.yaml'), {});
    expect(config.bus.kafka).toBeUndefined();
    expect(config.store.elasticsearch).toBeUndefined();
    expect(config.bus.topics.documents).toEqual({ name: 'shaobing.documents', partitions: 6, replication_factor: 1 });
    expect(config.data_dir).toBe(join(PROJECT_ROOT, 'var'));
  });

  it('gives an empty file every default, with data_dir relative to the file', () => {
    const config = loadConfig(file(''), {});
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8720, trust_proxy: [] });
    expect(config.bus.topics.dead_letters.name).toBe('shaobing.dead-letters');
    expect(config.data_dir).toBe(join(dir, 'var'));
  });

  it('points an unknown key at its own line and column', () => {
    const path = file('http:\n  port: 8080\nbus:\n  kafak:\n    brokers: [a:1]\n');
    expect(issuesOf(path)).toEqual([{ file: path, line: 4, col: 3, path: ['bus', 'kafak'], message: 'unknown key "kafak"' }]);
  });

  it('points a wrong type at the value', () => {
    const path = file('http:\n  port: "eighty"\n');
    const [issue] = issuesOf(path);
    expect(issue).toMatchObject({ line: 2, col: 9, path: ['http', 'port'] });
    expect(issue!.message).toMatch(/expected number/);
  });

  it('names a missing required value and the object that lacks it', () => {
    const path = file('bus:\n  kafka:\n    client_id: x\n');
    const [issue] = issuesOf(path);
    expect(issue).toMatchObject({ line: 3, path: ['bus', 'kafka', 'brokers'] });
    expect(issue!.message).toMatch(/missing required value/);
  });

  it('checks values inside lists, pointing at the item', () => {
    const path = file('bus:\n  kafka:\n    brokers:\n      - 127.0.0.1:9092\n      - not-a-broker\n');
    expect(issuesOf(path)).toEqual([
      expect.objectContaining({ line: 5, col: 9, path: ['bus', 'kafka', 'brokers', 1], message: 'expected host:port' }),
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const path = file('http:\n  port: [1, 2\nlog: {}\n');
    const issues = issuesOf(path);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('rejects duplicate keys instead of silently keeping one', () => {
    const path = file('http:\n  port: 1\n  port: 2\n');
    expect(issuesOf(path)[0]!.line).toBe(3);
  });

  it('applies environment overrides with YAML-typed values', () => {
    const config = loadConfig(file('http:\n  port: 1\n'), {
      SHAOBING__HTTP__PORT: '9001',
      SHAOBING__STORE__ELASTICSEARCH__NODE: 'http://10.0.0.5:9200',
      SHAOBING__BUS__KAFKA__BROKERS: '[10.0.0.5:9092, 10.0.0.6:9092]',
    });
    expect(config.http.port).toBe(9001);
    expect(config.store.elasticsearch?.node).toBe('http://10.0.0.5:9200');
    expect(config.bus.kafka?.brokers).toEqual(['10.0.0.5:9092', '10.0.0.6:9092']);
  });

  it('blames the environment variable when an override is wrong', () => {
    expect(issuesOf(file(''), { SHAOBING__HTTP__PORTT: '1' })).toEqual([
      expect.objectContaining({ file: 'env SHAOBING__HTTP__PORTT', path: ['http', 'portt'], message: 'unknown key "portt"' }),
    ]);
    expect(issuesOf(file(''), { SHAOBING__HTTP__PORT: 'x' })[0]).toMatchObject({ file: 'env SHAOBING__HTTP__PORT', path: ['http', 'port'] });
  });

  it('substitutes ${NAME} from the environment and reports a missing one where it is used', () => {
    const text = 'store:\n  elasticsearch:\n    node: http://es:9200\n    password: ${ES_PASSWORD}\n';
    expect(loadConfig(file(text), { ES_PASSWORD: 's3cret' }).store.elasticsearch?.password).toBe('s3cret');
    expect(issuesOf(file(text), {})).toEqual([
      expect.objectContaining({ line: 4, col: 15, path: ['store', 'elasticsearch', 'password'], message: expect.stringMatching(/ES_PASSWORD is not set/) }),
    ]);
  });

  it('says which file could not be read', () => {
    const missing = join(dir, 'nope.yaml');
    let error: unknown;
    try {
      loadConfig(missing, {});
    } catch (err) {
      error = err;
    }
    expect(isShaobingError(error, 'SB_CONFIG_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain(missing);
  });
});
