import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../core/config';
import { createLogger } from '../core/logger';
import { projectPath } from '../core/paths';
import { formatIsoInZone } from '../core/time';
import { AlertEvent, Document, type Level } from '../core/records';
import { createDaemon } from '../daemon/daemon';
import { ROLE_FACTORIES } from '../daemon/available-roles';

/**
 * `shaobing demo`: real posts and articles from 20–22 January 2020 replayed through the whole
 * pipeline on the embedded backends, their three days compressed into under a minute, with every
 * alert event printed as the notifier would receive it. No network, no configuration.
 */

const LEVEL: Record<Level, string> = { 1: '一级', 2: '二级', 3: '三级' };
const EVENT: Record<AlertEvent['type'], string> = { opened: '新预警', escalated: '升级', reopened: '重新打开', resolved: '已处置' };

interface DemoFlags {
  seconds: number;
  dataDir?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('replay bundled real Chinese posts and articles through the pipeline, time-compressed, offline, and print the alerts as they open and escalate')
    .option('--seconds <n>', 'how long the replay of the three days takes', positive, 30)
    .option('--data-dir <dir>', 'keep the demo data here (default: a temporary folder, removed afterwards)')
    .action((flags: DemoFlags) => runDemo(flags));
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return n;
}

/** Beijing time, as duty staff read it: `01-20 21:56`. */
function beijing(iso: string): string {
  return formatIsoInZone(Date.parse(iso)).slice(5, 16).replace('T', ' ');
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const docs = readFileSync(projectPath('examples', 'demo', 'documents.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => Document.parse(JSON.parse(line)));
  const dataDir = flags.dataDir ?? mkdtempSync(join(tmpdir(), 'shaobing-demo-'));
  const file = loadConfig(projectPath('examples', 'demo', 'shaobing.yaml'), {});
  const config = { ...file, data_dir: dataDir, http: { ...file.http, port: 0 } };
  const daemon = createDaemon({ config, log: createLogger({ level: 'warn' }), roles: ['pipeline'], factories: ROLE_FACTORIES });
  const out = (line: string) => process.stdout.write(`${line}\n`);

  const first = Date.parse(docs[0]!.published_at);
  const span = Date.parse(docs[docs.length - 1]!.published_at) - first;
  out(`哨兵 demo: ${docs.length} real posts and articles, ${beijing(docs[0]!.published_at)} → ${beijing(docs[docs.length - 1]!.published_at)} (Beijing time), replayed in ${flags.seconds} s`);
  out('sources: 丁香园 news feed and 央视新闻 Weibo (MIT; see examples/demo/README.md)\n');

  try {
    await daemon.start();
    const events: AlertEvent[] = [];
    await daemon.bus.subscribe({
      group: 'demo-console',
      topic: 'alert_events',
      handler: async (batch) => {
        for (const message of batch) {
          const event = AlertEvent.parse(JSON.parse(message.value.toString('utf8')));
          events.push(event);
          const alert = (await daemon.store.getAlert(event.alert_id))?.value;
          const spread = alert ? `${alert.doc_count} 篇 · ${alert.sources.slice(0, 3).join('、')}${alert.sources.length > 3 ? '…' : ''}` : '';
          out(`[${beijing(event.at)}] ${LEVEL[event.level]} ${EVENT[event.type].padEnd(4, '　')} ${alert?.topic_name ?? event.topic}  «${event.title.slice(0, 36)}»  ${spread}`);
        }
      },
    });

    const started = Date.now();
    for (const doc of docs) {
      const due = started + ((Date.parse(doc.published_at) - first) / span) * flags.seconds * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await daemon.bus.publish('documents', [{ key: doc.id, value: doc }]);
    }
    for (;;) {
      const lag = await daemon.bus.lag(config.pipeline.group, 'documents');
      if (lag.every((p) => p.lag === 0)) break;
      await sleep(200);
    }
    await sleep(500);
    await summarize(daemon, events, out);
  } finally {
    await daemon.stop();
    if (!flags.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function summarize(daemon: ReturnType<typeof createDaemon>, events: AlertEvent[], out: (line: string) => void): Promise<void> {
  const { store } = daemon;
  const documents = await store.searchDocuments({ size: 0 });
  const clusters = await store.aggregateDocuments({}, { terms: 'cluster_id', size: 1000 });
  const alerts = await store.searchAlerts({ order: 'severity', size: 1000 });
  const byLevel = await store.aggregateAlerts({}, { terms: 'level' });
  out(`\n${documents.total} documents stored in ${clusters.length} event clusters (${clusters.filter((c) => c.count > 1).length} with copies or reposts)`);
  out(`${alerts.total} alerts: ${byLevel.map((b) => `${LEVEL[Number(b.key) as Level]} ${b.count}`).join(', ')}; ${events.filter((e) => e.type === 'escalated').length} escalations`);
  const top = alerts.items[0]?.value;
  if (top) {
    out(`\nmost severe: ${LEVEL[top.level]} ${top.topic_name} «${top.title.slice(0, 40)}» — ${top.doc_count} documents from ${top.sources.length} sources`);
    for (const reason of top.level_reasons ?? []) out(`  · ${reason}`);
    out('  history:');
    for (const h of top.history) out(`  · ${beijing(h.at)} ${h.action}${h.to_level ? ` → ${LEVEL[h.to_level]}` : ''}`);
  }
}
