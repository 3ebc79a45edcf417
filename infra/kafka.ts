import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ShaobingError } from '../core/errors';
import { ensureClasspath } from './maven';
import { portOrFree } from './ports';
import { kafkaReachable } from './probes';
import { startServiceProcess, type LocalService, type LocalServiceOptions } from './service-process';

const run = promisify(execFile);

export interface KafkaOptions extends LocalServiceOptions {
  /** 0 or undefined: pick a free port. */
  controllerPort?: number;
}

export interface KafkaService extends LocalService {
  brokers: string[];
  controllerPort: number;
}

const DEFAULT_HEAP_MB = 512;
const DEFAULT_READY_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;

/** Single-node KRaft broker+controller on 127.0.0.1, from the jars in infra/kafka/pom.xml. */
export async function startKafka(opts: KafkaOptions): Promise<KafkaService> {
  const libDir = await ensureClasspath('kafka', opts);
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });

  const port = await portOrFree(opts.port);
  const controllerPort = await portOrFree(opts.controllerPort, [port]);
  const files = kafkaFiles(dataDir);
  await writeFile(files.serverProperties, serverProperties({ port, controllerPort, logDirs: files.logDirs }));
  await writeFile(files.log4jProperties, LOG4J_PROPERTIES);

  const heapMb = opts.heapMb ?? DEFAULT_HEAP_MB;
  const jvmArgs = [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    // kafka-run-class.sh's defaults.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${files.log4jProperties}`,
    '-cp',
    path.join(libDir, '*'),
  ];

  // A formatted log dir means this is a restart: keep its cluster id and data.
  if (!existsSync(path.join(files.logDirs, 'meta.properties'))) await formatStorage(jvmArgs, files.serverProperties);

  const brokers = [`127.0.0.1:${port}`];
  const service = await startServiceProcess({
    name: 'kafka',
    command: 'java',
    args: [...jvmArgs, 'kafka.Kafka', files.serverProperties],
    cwd: dataDir,
    logFile: files.logFile,
    detached: opts.detached ?? false,
    isReady: () => kafkaReachable(brokers),
    readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    log: opts.log,
    progress: opts.progress,
  });
  return { brokers, port, controllerPort, pid: service.pid, dataDir, logFile: files.logFile, stop: service.stop };
}

/** The paths under a Kafka data dir; server.properties' path also identifies the process. */
export function kafkaFiles(dataDir: string) {
  return {
    serverProperties: path.join(dataDir, 'server.properties'),
    log4jProperties: path.join(dataDir, 'log4j.properties'),
    logDirs: path.join(dataDir, 'kraft-logs'),
    logFile: path.join(dataDir, 'broker.log'),
  };
}

async function formatStorage(jvmArgs: string[], serverProperties: string): Promise<void> {
  try {
    await run('java', [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', serverProperties], {
      timeout: 60_000,
    });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new ShaobingError('SB_INFRA_START_FAILED', `kafka storage format failed: ${`${stdout}${stderr}`.trim()}`, { cause: err });
  }
}

/**
 * What `StorageTool random-uuid` prints (16 random bytes, URL-safe base64), made here to save a
 * JVM start. Kafka rejects ids that start with '-' since they read as command-line flags.
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(p: { port: number; controllerPort: number; logDirs: string }): string {
  return `# Written by infra/kafka.ts on every start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${p.controllerPort}
listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${p.logDirs}
num.partitions=1
# One node: internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# A first consumer-group join would otherwise wait 3 s, and create 50 partitions.
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# The default 128 MB buffer is allocated on the heap, and the heap here is small.
log.cleaner.dedupe.buffer.size=4194304
# kafkajs races KRaft auto-creation; topics are created explicitly.
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
`;
}

const LOG4J_PROPERTIES = `# Written by infra/kafka.ts: everything to stdout, which goes to broker.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
`;
