import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { loadConfig } from '../../core/config';
import { eventually, storeFor } from '../support/backends';
import { runCli } from '../support/cli';
import { startConsole } from './helpers';

/** `shaobing user …` run as a user would, against a config file of its own. */
describe('shaobing user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-users-cli-'));
  const configFile = join(dir, 'shaobing.yaml');
  writeFileSync(configFile, 'data_dir: ./var\nconsole:\n  users_file: ./users.json\n');
  const usersFile = join(dir, 'users.json');
  const cli = (args: string[], input?: string) => runCli(['user', ...args, '-c', configFile], { ...(input === undefined ? {} : { input }), timeoutMs: 60_000 });
  const me = `cli:${userInfo().username}`;

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('documents each command', async () => {
    const help = await runCli(['user', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--role <role>');
    expect(help.stdout).toContain('--password-stdin');
    expect(help.stdout).toContain('-c, --config <file>');
    const list = await runCli(['user', '--help']);
    for (const command of ['add', 'passwd', 'disable', 'enable', 'list']) expect(list.stdout).toMatch(new RegExp(`\\n\\s+${command}\\b`));
  });

  it('adds users with a hashed password in a 0600 file, lists them, and audits the change in the store', async () => {
    const added = await cli(['add', 'ada', '--role', 'admin', '--display-name', '管理员', '--password-stdin'], 'first-admin-pass\n');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toContain('user ada added (admin)');
    expect(statSync(usersFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(usersFile, 'utf8')).users[0];
    expect(stored).toMatchObject({ name: 'ada', role: 'admin', display_name: '管理员', disabled: false });
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    expect(readFileSync(usersFile, 'utf8')).not.toContain('first-admin-pass');

    const list = await cli(['list', '--json']);
    expect(list.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ name: 'ada', role: 'admin', disabled: false })]);
    expect(list.stdout).not.toContain('argon2');

    const store = storeFor(loadConfig(configFile));
    try {
      const { items } = await store.searchAudit({ target: ['user:ada'] });
      expect(items).toEqual([expect.objectContaining({ user: me, action: 'user.add', after: expect.objectContaining({ name: 'ada', role: 'admin' }) })]);
      expect(JSON.stringify(items)).not.toContain('argon2');
    } finally {
      await store.close();
    }
  });

  it('says plainly what is wrong: a taken name, an unknown user, a bad role, a short password', async () => {
    const taken = await cli(['add', 'ada', '--role', 'duty', '--password-stdin'], 'another-pass-1\n');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('SB_CONSOLE_USERS_FILE');
    expect(taken.stderr).toContain('user "ada" already exists');
    const unknown = await cli(['disable', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user "nobody"');
    const role = await cli(['add', 'bob', '--role', 'root', '--password-stdin'], 'whatever-1234\n');
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain("Allowed choices are admin, analyst, duty");
    const short = await cli(['add', 'bob', '--role', 'duty', '--password-stdin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('password: at least 8 characters');
    const noTerminal = await cli(['add', 'bob', '--role', 'duty']);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.stderr).toContain('--password-stdin');
  });

  it('waits for the lock of another process changing the file, then keeps both changes', async () => {
    // The console (or a second `shaobing user`) in the middle of its read-modify-write.
    const release = await lock(usersFile, { realpath: false, lockfilePath: `${usersFile}.lock` });
    let finished = false;
    const adding = cli(['add', 'cy', '--role', 'duty', '--password-stdin'], 'third-pass-123\n').finally(() => (finished = true));
    await new Promise((r) => setTimeout(r, 2_500));
    const whileLocked = { finished, names: JSON.parse(readFileSync(usersFile, 'utf8')).users.map((u: { name: string }) => u.name) };
    const extra = JSON.parse(readFileSync(usersFile, 'utf8'));
    extra.users.push({ ...extra.users[0], name: 'held', role: 'analyst' });
    writeFileSync(usersFile, JSON.stringify(extra));
    await release();
    expect(whileLocked).toEqual({ finished: false, names: ['ada'] });
    expect(await adding).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(usersFile, 'utf8')).users.map((u: { name: string }) => u.name)).toEqual(['ada', 'held', 'cy']);
  });

  it('works beside a running daemon: the new user signs in at once, passwd and disable end sessions, audit entries are queued and imported', async () => {
    const config = loadConfig(configFile);
    const c = await startConsole({ config: { data_dir: config.data_dir, console: { users_file: usersFile } }, pollMs: 300 });
    try {
      expect((await cli(['add', 'bob', '--role', 'duty', '--password-stdin'], 'bob-first-pass\n')).code).toBe(0);
      const bob = await c.login('bob', 'bob-first-pass');
      const passwd = await cli(['passwd', 'bob', '--password-stdin'], 'bob-second-pass\n');
      expect(passwd.code).toBe(0);
      expect(passwd.stderr).toContain('the audit entry waits in');
      expect((await bob.get('/api/session')).status).toBe(401);
      const again = await c.login('bob', 'bob-second-pass');
      expect((await cli(['disable', 'bob'])).code).toBe(0);
      expect((await again.get('/api/session')).status).toBe(401);
      expect((await c.anonymous().signIn('bob', 'bob-second-pass')).status).toBe(401);
      expect((await cli(['enable', 'bob'])).code).toBe(0);
      expect((await c.anonymous().signIn('bob', 'bob-second-pass')).status).toBe(200);

      const imported = await eventually(
        async () => (await c.store.searchAudit({ user: [me], target: ['user:bob'] })).items.map((e) => e.action),
        (actions) => actions.length === 4,
      );
      expect(imported.sort()).toEqual(['user.add', 'user.disable', 'user.enable', 'user.password']);
      const disable = (await c.store.searchAudit({ action: ['user.disable'] })).items[0];
      expect(disable).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
    } finally {
      await c.close();
    }
  });
});
