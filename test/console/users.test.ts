import { readFileSync } from 'node:fs';
import { passwordOf, startConsole, type ConsoleClient, type TestConsole } from './helpers';

describe('console users and audit API (admin)', () => {
  let c: TestConsole;
  let admin: ConsoleClient;
  beforeAll(async () => {
    c = await startConsole({ users: [{ name: 'ada', role: 'admin' }, { name: 'ana', role: 'analyst' }] });
    admin = await c.login('ada');
  });
  afterAll(() => c.close());

  it('lists users without their password hashes', async () => {
    const response = await admin.get('/api/users');
    expect(response.status).toBe(200);
    expect(response.body.items.map((u: { name: string }) => u.name)).toEqual(['ada', 'ana']);
    expect(response.body.items[1]).toEqual({ name: 'ana', role: 'analyst', disabled: false, created_at: expect.any(String), updated_at: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toContain('argon2');
  });

  it('adds a user who can then sign in; a taken name is 409 and a short password 400', async () => {
    const created = await admin.post('/api/users', { name: '值班员01', role: 'duty', password: 'duty-pass-5678', display_name: '张值班' });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ name: '值班员01', role: 'duty', display_name: '张值班', disabled: false });
    expect((await c.anonymous().signIn('值班员01', 'duty-pass-5678')).status).toBe(200);
    const hashes = JSON.parse(readFileSync(c.services.paths.usersFile, 'utf8')).users.map((u: { password_hash: string }) => u.password_hash);
    expect(hashes.every((h: string) => h.startsWith('$argon2id$'))).toBe(true);

    expect(await admin.post('/api/users', { name: 'ana', role: 'duty', password: 'whatever-1234' })).toMatchObject({ status: 409, body: { code: 'SB_CONSOLE_USERS_FILE' } });
    expect(await admin.post('/api/users', { name: 'eve', role: 'duty', password: 'short' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('body.password') } });
    expect(await admin.post('/api/users', { name: 'system', role: 'duty', password: 'whatever-1234' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('body.name') } });
    expect(await admin.post('/api/users', { name: 'eve', role: 'root', password: 'whatever-1234' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('body.role') } });
  });

  it('changes role at once, and a password set by an admin ends the user’s sessions', async () => {
    const ana = await c.login('ana');
    expect((await ana.get('/api/users')).status).toBe(403);
    expect((await admin.patch('/api/users/ana', { role: 'admin' })).body.user.role).toBe('admin');
    expect((await ana.get('/api/users')).status).toBe(200);
    expect((await admin.patch('/api/users/ana', { password: 'reset-by-admin-9' })).status).toBe(200);
    expect((await ana.get('/api/session')).status).toBe(401);
    expect((await c.anonymous().signIn('ana', passwordOf('ana'))).status).toBe(401);
    expect((await c.anonymous().signIn('ana', 'reset-by-admin-9')).status).toBe(200);
    expect((await admin.patch('/api/users/ana', { role: 'analyst', display_name: '安娜' })).body.user).toMatchObject({ role: 'analyst', display_name: '安娜' });
    expect((await admin.patch('/api/users/ana', { display_name: null })).body.user).not.toHaveProperty('display_name');
    expect(await admin.patch('/api/users/nobody', { disabled: true })).toMatchObject({ status: 404, body: { code: 'SB_CONSOLE_NOT_FOUND' } });
    expect(await admin.patch('/api/users/ana', {})).toMatchObject({ status: 400 });
  });

  it('refuses to disable or demote the last enabled admin', async () => {
    const disable = await admin.patch('/api/users/ada', { disabled: true });
    expect(disable).toMatchObject({ status: 400, body: { code: 'SB_CONSOLE_BAD_REQUEST', message: expect.stringContaining('last enabled admin') } });
    expect((await admin.patch('/api/users/ada', { role: 'duty' })).status).toBe(400);
    expect((await admin.get('/api/session')).status).toBe(200);
  });

  it('shows the audit log newest first, filtered, with before/after and never a password', async () => {
    await c.store.refresh();
    const all = await admin.get('/api/audit?size=200');
    expect(all.status).toBe(200);
    const times = all.body.items.map((e: { at: string }) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const updates = await admin.get(`/api/audit?action=user.update&target=${encodeURIComponent('user:ana')}`);
    expect(updates.body.items.length).toBe(4);
    expect(updates.body.items.every((e: { user: string }) => e.user === 'ada')).toBe(true);
    const reset = updates.body.items.find((e: { after: { password_changed?: boolean } }) => e.after.password_changed);
    expect(reset.before).toMatchObject({ name: 'ana', role: 'admin' });
    expect(JSON.stringify(all.body)).not.toMatch(/argon2|reset-by-admin-9|duty-pass-5678/);
    const added = await admin.get('/api/audit?action=user.add');
    expect(added.body.items[0]).toMatchObject({ user: 'ada', target: 'user:值班员01', after: { name: '值班员01', role: 'duty' } });
    const window = await admin.get(`/api/audit?user=ada&from=${encodeURIComponent('2000-01-01T00:00:00Z')}&to=${encodeURIComponent('2000-01-02T00:00:00Z')}`);
    expect(window.body.total).toBe(0);
    expect((await admin.get('/api/audit?size=5000')).status).toBe(400);
  });
});
