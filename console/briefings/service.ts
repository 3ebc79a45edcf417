import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../../core/config';
import { ShaobingError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { createMailTransport, mailError } from '../../notify/channels';
import type { Store } from '../../store/types';
import { BriefingArchive, BRIEFING_FORMATS, CONTENT_TYPES, type BriefingFormat, type BriefingMeta } from './archive';
import { composeBriefing, KIND_TITLES } from './compose';
import { renderBriefingDocx } from './docx';
import { renderBriefingHtml } from './html';
import { renderPdf } from './pdf';
import type { Period } from './period';

/**
 * Makes, keeps and mails briefings: compose the period's data, render each format, store them
 * together, and for scheduled ones mail the PDF and Word files through `notify.channels.email`.
 * Used by the console's routes, the scheduler and `shaobing briefing`.
 */

export interface BriefingServiceOptions {
  config: Config;
  store: Store;
  /** `paths.briefingsDir`. */
  dir: string;
  log: Logger;
  now: () => Date;
  /** Names of the topics as the running rules call them, read once per briefing. */
  topicNames?: () => (id: string) => string | undefined;
}

export interface GenerateRequest {
  period: Period;
  /** A console user, `scheduler`, or `cli:<os user>`. */
  by: string;
  /** Scheduled briefings are stored under their period's key (one per period) and mailed. */
  scheduled?: boolean;
  /** Default: all three. */
  formats?: readonly BriefingFormat[];
  /** Store it in the archive; default true (the CLI's --out writes the files elsewhere instead). */
  keep?: boolean;
}

export interface GenerateResult {
  meta: BriefingMeta;
  /** False when a scheduled briefing of this period existed already (`meta` is that one). */
  created: boolean;
  /** The rendered files, for a caller that writes them elsewhere (the CLI's --out). */
  files: Partial<Record<BriefingFormat, Buffer | string>>;
}

/** Attempts at mailing one scheduled briefing before it is left for an operator to resend. */
export const MAX_MAIL_ATTEMPTS = 5;

const ATTACHED: readonly BriefingFormat[] = ['pdf', 'docx'];

export class BriefingService {
  readonly archive: BriefingArchive;
  readonly #options: BriefingServiceOptions;

  constructor(options: BriefingServiceOptions) {
    this.#options = options;
    this.archive = new BriefingArchive(options.dir, options.log);
  }

  /** Composes and renders; a format that fails is recorded in `errors`, the others are kept. */
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { config, store, log, now } = this.#options;
    const { period } = request;
    const id = request.scheduled ? period.key : `${period.key}-${now().toISOString().replace(/[-:]|\.\d+/g, '').toLowerCase()}-${randomBytes(2).toString('hex')}`;
    if (request.scheduled) {
      const existing = this.archive.get(id);
      if (existing) return { meta: existing, created: false, files: {} };
    }
    const started = Date.now();
    const data = await composeBriefing(period, {
      store,
      now: now(),
      ...(this.#options.topicNames ? { topicName: this.#options.topicNames() } : {}),
      ...(config.console.public_url ? { publicUrl: config.console.public_url } : {}),
    });
    const formats = request.formats ?? BRIEFING_FORMATS;
    const files: Partial<Record<BriefingFormat, Buffer | string>> = {};
    const errors: Partial<Record<BriefingFormat, string>> = {};
    const html = renderBriefingHtml(data);
    if (formats.includes('html')) files.html = html;
    const attempt = async (format: BriefingFormat, render: () => Promise<Buffer>) => {
      if (!formats.includes(format)) return;
      try {
        files[format] = await render();
      } catch (err) {
        errors[format] = err instanceof Error ? err.message : String(err);
        log.error({ err, period: period.key, format }, 'briefing format failed to render');
      }
    };
    await attempt('pdf', () => renderPdf(html, { executablePath: config.collectors.browser.executable_path }));
    await attempt('docx', () => renderBriefingDocx(data));
    const meta: BriefingMeta = {
      id,
      kind: period.kind,
      title: `${KIND_TITLES[period.kind]}（${period.label}）`,
      period,
      generated_at: data.generated_at,
      generated_by: request.by,
      scheduled: request.scheduled ?? false,
      formats: BRIEFING_FORMATS.filter((f) => files[f] !== undefined),
      ...(Object.keys(errors).length ? { errors } : {}),
      summary: data.summary,
    };
    if (meta.formats.length === 0) throw new ShaobingError('SB_BRIEFING_RENDER_FAILED', `no format of briefing ${id} rendered: ${Object.values(errors).join('; ')}`);
    if (request.keep === false) return { meta, created: true, files };
    const created = this.archive.save(meta, files);
    log.info({ id, period: period.key, formats: meta.formats, ms: Date.now() - started, created }, created ? 'briefing generated' : 'briefing of this period exists already');
    return created ? { meta, created, files } : { meta: this.archive.get(id) ?? meta, created: false, files };
  }

  /**
   * Mails a stored briefing to `console.briefings.recipients` with its PDF and Word files, and
   * records the attempt in its metadata. Throws SB_NOTIFY_SEND_FAILED / SB_NOTIFY_REJECTED as the
   * duty e-mail does, or SB_CONFIG_INVALID when no SMTP server is configured.
   */
  async mail(meta: BriefingMeta): Promise<BriefingMeta> {
    const { config, now } = this.#options;
    const to = config.console.briefings.recipients;
    const email = config.notify.channels.email;
    const record = (extra: { sent_at: string } | { error: string }) => {
      const next: BriefingMeta = { ...meta, mail: { to, attempts: (meta.mail?.attempts ?? 0) + 1, ...extra } };
      this.archive.update(next);
      return next;
    };
    if (!email) {
      record({ error: 'notify.channels.email is not configured' });
      throw new ShaobingError('SB_CONFIG_INVALID', 'console.briefings.recipients are set but notify.channels.email is not: no SMTP server to send briefings through');
    }
    const attachments = ATTACHED.filter((f) => meta.formats.includes(f)).map((f) => ({
      filename: `${meta.title}.${f}`,
      content: readFileSync(this.archive.filePath(meta.id, f)!),
      contentType: CONTENT_TYPES[f],
    }));
    const link = config.console.public_url ? `\n\n在线查看：${config.console.public_url.replace(/\/$/, '')}/#/briefings` : '';
    const transport = createMailTransport(email);
    try {
      await transport.sendMail({ from: email.from, to, subject: `【${KIND_TITLES[meta.kind]}】${meta.period.label}`, text: `${meta.summary}${link}\n\n（哨兵舆情监测系统自动发送）`, attachments });
    } catch (err) {
      const error = mailError(err);
      record({ error: error.message });
      throw error;
    } finally {
      transport.close();
    }
    return record({ sent_at: now().toISOString() });
  }
}
