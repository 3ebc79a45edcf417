import { z } from 'zod';
import { USER_NAME, DISPLAY_NAME, PASSWORD, ROLE, userView, type StoredUser } from '../auth/users';
import type { ConsoleApi } from '../context';
import { ConsoleError, notFound, parseInput, userOf } from '../request';

/**
 * Admin only: the local users and the audit log. A change that would leave no enabled admin is
 * refused, so the console cannot be locked out from inside (the CLI can still mend anything).
 */

const admin = { roles: ['admin'] as const };

const NewUserBody = z.strictObject({ name: USER_NAME, role: ROLE, password: PASSWORD, display_name: DISPLAY_NAME.optional() });
const UserPatch = z
  .strictObject({ role: ROLE.optional(), disabled: z.boolean().optional(), password: PASSWORD.optional(), display_name: DISPLAY_NAME.nullable().optional() })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'nothing to change');
const NameParam = z.strictObject({ name: z.string().min(1).max(64) });

const IsoTime = z.iso.datetime({ offset: true });
const AuditQueryString = z.strictObject({
  user: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  size: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

function enabledAdmins(users: readonly StoredUser[]): number {
  return users.filter((u) => u.role === 'admin' && !u.disabled).length;
}

export const usersApi: ConsoleApi = async (app, services) => {
  const { users } = app.consoleAuth;

  app.get('/users', { config: admin }, async () => ({ items: users.list().map(userView) }));

  app.post('/users', { config: admin }, async (request, reply) => {
    const body = parseInput(NewUserBody, request.body, 'body');
    if (users.find(body.name)) throw new ConsoleError('SB_CONSOLE_USERS_FILE', `user "${body.name}" already exists`);
    const user = await users.add(body, services.now().toISOString());
    await services.audit({ user: userOf(request).name, action: 'user.add', target: `user:${user.name}`, after: user, ip: request.ip });
    return reply.code(201).send({ user });
  });

  app.patch('/users/:name', { config: admin }, async (request) => {
    const { name } = parseInput(NameParam, request.params, 'params');
    const patch = parseInput(UserPatch, request.body, 'body');
    const current = users.find(name);
    if (!current) throw notFound(`user "${name}"`);
    const demoted = current.role === 'admin' && !current.disabled && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
    if (demoted && enabledAdmins(users.list()) <= 1) {
      throw new ConsoleError('SB_CONSOLE_BAD_REQUEST', `body: ${name} is the last enabled admin; make another admin first`);
    }
    const { before, after } = await users.update(name, patch, services.now().toISOString());
    await services.audit({
      user: userOf(request).name,
      action: 'user.update',
      target: `user:${name}`,
      before,
      // The new password itself is never recorded, only that it changed.
      after: patch.password === undefined ? after : { ...after, password_changed: true },
      ip: request.ip,
    });
    return { user: after };
  });

  app.get('/audit', { config: admin }, async (request) => {
    const q = parseInput(AuditQueryString, request.query, 'query');
    return services.store.searchAudit({
      ...(q.user ? { user: [q.user] } : {}),
      ...(q.action ? { action: [q.action] } : {}),
      ...(q.target ? { target: [q.target] } : {}),
      ...(q.from || q.to ? { time: { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) } } : {}),
      size: q.size,
      offset: q.offset,
    });
  });
};
