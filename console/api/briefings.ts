import { createReadStream } from 'node:fs';
import { z } from 'zod';
import { BRIEFING_FORMATS, BriefingId, CONTENT_TYPES } from '../briefings/archive';
import { customPeriod, dayPeriod, latestCompleted, parseLocalDate, weekPeriod, type Period } from '../briefings/period';
import { briefingServiceFor } from '../briefings/scheduler';
import type { ConsoleApi, ConsoleRole } from '../context';
import { notFound, parseInput, userOf } from '../request';

/**
 * 舆情简报 in the console (docs/console-api.md, "Briefings"): list and download for everyone signed
 * in; analysts and admins generate one on demand, synchronously (a few seconds, the PDF being most
 * of it; prints run one at a time, see briefings/pdf.ts).
 */

const GENERATORS: readonly ConsoleRole[] = ['admin', 'analyst'];
const MAX_CUSTOM_MS = 366 * 86_400_000;

const Instant = z.iso.datetime({ offset: true });
const Generate = z
  .strictObject({
    kind: z.enum(['daily', 'weekly', 'custom']),
    /** daily/weekly: a local date (`YYYY-MM-DD`) in the day or week wanted; default yesterday / last week. */
    date: z.string().refine((d) => parseLocalDate(d) !== undefined, 'a date as YYYY-MM-DD').optional(),
    /** custom: the span, from inclusive to exclusive. */
    from: Instant.optional(),
    to: Instant.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.kind === 'custom') {
      if (!b.from || !b.to) ctx.addIssue({ code: 'custom', path: [b.from ? 'to' : 'from'], message: 'a custom briefing needs from and to' });
      else if (Date.parse(b.from) >= Date.parse(b.to)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
      else if (Date.parse(b.to) - Date.parse(b.from) > MAX_CUSTOM_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'a custom briefing covers at most 366 days' });
      if (b.date) ctx.addIssue({ code: 'custom', path: ['date'], message: 'date is for daily and weekly briefings' });
    } else if (b.from || b.to) {
      ctx.addIssue({ code: 'custom', path: [b.from ? 'from' : 'to'], message: 'from and to are for custom briefings; use date' });
    }
  });

const ListQuery = z.strictObject({
  kind: z.enum(['daily', 'weekly', 'custom']).optional(),
  size: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const IdParams = z.strictObject({ id: BriefingId });
const FileParams = z.strictObject({ id: BriefingId, format: z.enum(BRIEFING_FORMATS) });
const FileQuery = z.strictObject({ download: z.enum(['0', '1']).optional() });

/**
 * A briefing shown in the browser runs nothing and loads nothing: no script at all, its own inline
 * styles only, and sandboxed, so even a title that escaped escaping could not act on the console.
 */
const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

export const briefingsApi: ConsoleApi = async (app, services) => {
  const service = briefingServiceFor(services);
  const timeZone = services.config.console.time_zone;

  const periodOf = (b: z.output<typeof Generate>): Period => {
    if (b.kind === 'custom') return customPeriod(Date.parse(b.from!), Date.parse(b.to!), timeZone);
    if (!b.date) return latestCompleted(b.kind, services.now().getTime(), timeZone);
    const day = parseLocalDate(b.date)!;
    return b.kind === 'daily' ? dayPeriod(day, timeZone) : weekPeriod(day, timeZone);
  };

  app.get('/briefings', async (request) => {
    const q = parseInput(ListQuery, request.query, 'query');
    const all = service.archive.list().filter((m) => !q.kind || m.kind === q.kind);
    return { total: all.length, items: all.slice(q.offset, q.offset + q.size) };
  });

  app.post('/briefings', { config: { roles: GENERATORS } }, async (request, reply) => {
    const body = parseInput(Generate, request.body, 'body');
    const user = userOf(request);
    const period = periodOf(body);
    const { meta } = await service.generate({ period, by: user.name });
    await services.audit({
      user: user.name,
      action: 'briefing.generate',
      target: `briefing:${meta.id}`,
      after: { kind: meta.kind, period: meta.period.key, formats: meta.formats, ...(meta.errors ? { errors: meta.errors } : {}) },
      ...(request.ip ? { ip: request.ip } : {}),
    });
    return reply.code(201).send({ id: meta.id, briefing: meta });
  });

  app.get('/briefings/:id', async (request) => {
    const { id } = parseInput(IdParams, request.params, 'params');
    const meta = service.archive.get(id);
    if (!meta) throw notFound(`briefing ${id}`);
    return meta;
  });

  app.get('/briefings/:id/file.:format', async (request, reply) => {
    const { id, format } = parseInput(FileParams, request.params, 'params');
    const { download } = parseInput(FileQuery, request.query, 'query');
    const meta = service.archive.get(id);
    const file = service.archive.filePath(id, format);
    if (!meta || !file) throw notFound(`briefing ${id} as ${format}`);
    const name = `${meta.title}.${format}`;
    const inline = format === 'html' && download !== '1';
    if (format === 'html') reply.header('content-security-policy', HTML_CSP);
    // The ASCII name for old clients, the Chinese title (RFC 5987) for the rest.
    reply.header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${id}.${format}"; filename*=UTF-8''${encodeURIComponent(name)}`);
    reply.header('x-content-type-options', 'nosniff');
    return reply.type(CONTENT_TYPES[format]).send(createReadStream(file));
  });
};
