import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/atomic-write';
import type { Logger } from '../../core/logger';
import { BRIEFING_KINDS } from './period';

/**
 * Generated briefings on disk (`paths.briefingsDir`): one folder per briefing holding its files and
 * meta.json. A folder appears whole or not at all (written aside, then renamed into place), and a
 * scheduled briefing's folder is named after its period, so two runs for one period cannot both
 * land: the second rename finds the folder taken.
 */

export const BRIEFING_FORMATS = ['html', 'pdf', 'docx'] as const;
export type BriefingFormat = (typeof BRIEFING_FORMATS)[number];

export const CONTENT_TYPES: Record<BriefingFormat, string> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

const IsoTime = z.iso.datetime({ offset: true });
/** Lower-case letters, digits and dashes only: an id can never name a path outside the folder. */
export const BriefingId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,127}$/, 'a briefing id');

export const BriefingMeta = z.strictObject({
  id: BriefingId,
  kind: z.enum(BRIEFING_KINDS),
  title: z.string(),
  period: z.strictObject({ kind: z.enum(BRIEFING_KINDS), from: IsoTime, to: IsoTime, key: z.string(), label: z.string(), time_zone: z.string() }),
  generated_at: IsoTime,
  /** A console user, `scheduler`, or `cli:<os user>`. */
  generated_by: z.string().min(1),
  /** Made by the scheduler (and so mailed to console.briefings.recipients). */
  scheduled: z.boolean(),
  /** The files present. */
  formats: z.array(z.enum(BRIEFING_FORMATS)),
  /** Formats that failed to render, with why. */
  errors: z.partialRecord(z.enum(BRIEFING_FORMATS), z.string()).optional(),
  /** The summary paragraph, for lists and the mail's text. */
  summary: z.string(),
  mail: z
    .strictObject({
      to: z.array(z.string()),
      attempts: z.number().int().min(0),
      sent_at: IsoTime.optional(),
      error: z.string().optional(),
    })
    .optional(),
});
export type BriefingMeta = z.infer<typeof BriefingMeta>;

const META = 'meta.json';
const fileName = (format: BriefingFormat) => `briefing.${format}`;

export class BriefingArchive {
  readonly dir: string;
  readonly #log: Logger | undefined;

  constructor(dir: string, log?: Logger) {
    this.dir = dir;
    this.#log = log;
  }

  /** Newest first. A folder whose meta.json is unreadable is skipped and logged, not fatal. */
  list(): BriefingMeta[] {
    if (!existsSync(this.dir)) return [];
    const metas: BriefingMeta[] = [];
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !BriefingId.safeParse(entry.name).success) continue;
      const meta = this.get(entry.name);
      if (meta) metas.push(meta);
    }
    return metas.sort((a, b) => b.generated_at.localeCompare(a.generated_at) || a.id.localeCompare(b.id));
  }

  get(id: string): BriefingMeta | undefined {
    if (!BriefingId.safeParse(id).success) return undefined;
    const file = join(this.dir, id, META);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = BriefingMeta.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      this.#log?.warn({ file, issues: parsed.error.issues.slice(0, 3) }, 'briefing metadata does not match its schema; skipped');
    } catch (err) {
      this.#log?.warn({ file, err }, 'briefing metadata is not JSON; skipped');
    }
    return undefined;
  }

  /** The file of one format, or undefined when the briefing or that format does not exist. */
  filePath(id: string, format: BriefingFormat): string | undefined {
    const meta = this.get(id);
    return meta?.formats.includes(format) ? join(this.dir, id, fileName(format)) : undefined;
  }

  /** Stores a new briefing whole; false when one with this id exists already (nothing is changed then). */
  save(meta: BriefingMeta, files: Partial<Record<BriefingFormat, Buffer | string>>): boolean {
    const final = join(this.dir, meta.id);
    if (existsSync(final)) return false;
    mkdirSync(this.dir, { recursive: true });
    const aside = join(this.dir, `.${meta.id}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    mkdirSync(aside);
    try {
      for (const [format, data] of Object.entries(files) as Array<[BriefingFormat, Buffer | string]>) writeFileSync(join(aside, fileName(format)), data);
      writeFileSync(join(aside, META), `${JSON.stringify(meta, null, 2)}\n`);
      renameSync(aside, final);
      return true;
    } catch (err) {
      rmSync(aside, { recursive: true, force: true });
      // Renaming onto a folder that appeared meanwhile fails: another run got there first.
      if (['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) return false;
      throw err;
    }
  }

  /** Rewrites the metadata of a stored briefing (its mail state). */
  update(meta: BriefingMeta): void {
    writeFileAtomic(join(this.dir, meta.id, META), `${JSON.stringify(BriefingMeta.parse(meta), null, 2)}\n`);
  }
}
