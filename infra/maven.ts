import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ShaobingError } from '../core/errors';
import { silentLogger, type Logger } from '../core/logger';
import { projectRoot } from '../core/paths';
import { noProgress, seconds, type Progress } from './progress';

const run = promisify(execFile);

export type InfraComponent = 'kafka' | 'opensearch';

export interface ClasspathOptions {
  /** Default: `$SHAOBING_INFRA_CACHE`, else `infra/.cache` in the project. */
  cacheDir?: string;
  log?: Logger;
  progress?: Progress;
}

const INSTALL_HINT = 'install them with `apt-get install -y openjdk-17-jdk-headless maven`';
const MIN_JAVA_MAJOR = 17;
const MAVEN_TIMEOUT_MS = 15 * 60_000;

export function infraCacheDir(): string {
  return process.env.SHAOBING_INFRA_CACHE || path.join(projectRoot(), 'infra', '.cache');
}

/**
 * The directory holding every runtime jar of `component`, fetched by Maven on first use. The
 * stamp file records a hash of the pom and the Maven arguments, so warm starts skip Maven
 * entirely and an edited pom triggers a fresh fetch.
 */
export async function ensureClasspath(component: InfraComponent, opts: ClasspathOptions = {}): Promise<string> {
  const log = opts.log ?? silentLogger;
  const progress = opts.progress ?? noProgress;
  await requireTool('java');

  const pom = path.join(projectRoot(), 'infra', component, 'pom.xml');
  const componentDir = path.join(opts.cacheDir ?? infraCacheDir(), component);
  const libDir = path.join(componentDir, 'lib');
  const stampFile = path.join(componentDir, 'stamp');
  const mavenArgs = ['-B', '-q', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime'];
  const stamp = createHash('sha256').update(await readFile(pom)).update(JSON.stringify(mavenArgs)).digest('hex');

  if (existsSync(libDir) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return libDir;

  await requireTool('mvn');
  const startedAt = Date.now();
  progress(`fetching ${component} jars with maven (first run only; later runs use ${libDir})`);
  // Copy into a private directory and swap it in, so a concurrent or interrupted fetch never
  // leaves a half-filled lib/ behind a valid stamp.
  const stagingDir = path.join(componentDir, `lib.${process.pid}.tmp`);
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(componentDir, { recursive: true });
  try {
    await run('mvn', [...mavenArgs, `-DoutputDirectory=${stagingDir}`], { timeout: MAVEN_TIMEOUT_MS, maxBuffer: 64 << 20 });
  } catch (err) {
    await rm(stagingDir, { recursive: true, force: true });
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    const tail = `${stdout}${stderr}`.trimEnd().split('\n').slice(-30).join('\n');
    throw new ShaobingError('SB_INFRA_START_FAILED', `maven could not fetch the ${component} jars (${pom}):\n${tail}`, { cause: err });
  }
  await rm(libDir, { recursive: true, force: true });
  await rename(stagingDir, libDir);
  await writeFile(stampFile, stamp);
  log.info({ component, libDir, ms: Date.now() - startedAt }, 'maven classpath fetched');
  progress(`${component} jars fetched in ${seconds(startedAt)}`);
  return libDir;
}

const toolChecks = new Map<'java' | 'mvn', Promise<void>>();

/** Checked once per process: both classpaths ask, and each check starts a JVM. */
function requireTool(tool: 'java' | 'mvn'): Promise<void> {
  let check = toolChecks.get(tool);
  if (!check) {
    check = tool === 'java' ? checkJava() : checkMaven();
    toolChecks.set(tool, check);
  }
  return check;
}

async function checkJava(): Promise<void> {
  let output: string;
  try {
    // `java -version` prints to stderr.
    const { stdout, stderr } = await run('java', ['-version']);
    output = `${stderr}${stdout}`;
  } catch {
    throw new ShaobingError('SB_INFRA_TOOL_MISSING', `java (JDK ${MIN_JAVA_MAJOR}+) and maven are needed for the local Kafka and OpenSearch, but \`java -version\` failed: ${INSTALL_HINT}`);
  }
  // `version "17.0.15"`, or `"1.8.0_392"` for the old scheme.
  const match = /version "(?:1\.)?(\d+)/.exec(output);
  const major = match ? Number(match[1]) : 0;
  if (major < MIN_JAVA_MAJOR) {
    throw new ShaobingError('SB_INFRA_TOOL_MISSING', `java ${MIN_JAVA_MAJOR}+ is needed for the local Kafka and OpenSearch, found ${match ? major : 'an unknown version'}: ${INSTALL_HINT}`);
  }
}

async function checkMaven(): Promise<void> {
  try {
    await run('mvn', ['-v']);
  } catch {
    throw new ShaobingError('SB_INFRA_TOOL_MISSING', `maven is needed once to fetch the local Kafka and OpenSearch jars, but \`mvn -v\` failed: ${INSTALL_HINT}`);
  }
}
