import { Option, type Command } from 'commander';
import { configPath, loadConfig, type Config } from '../core/config';
import { ShaobingError } from '../core/errors';
import { CONSOLE_ROLES, type ConsoleRole } from './context';
import { type AuditInput, cliUser, recordCliAudit } from './audit';
import { UserDirectory, userView } from './auth/users';
import { consolePaths } from './paths';

/**
 * `shaobing user add|passwd|disable|enable|list`: the console's local users, from the shell of the
 * server (the first admin has no other way in). Works while the daemon runs: the users file is
 * re-read by the console on its next request. Each change is audited as `cli:<os user>`; when the
 * store cannot be opened (the embedded one is locked by the running daemon) the entry is queued
 * for the console to import, and the command says so.
 */

const CONFIG_HELP = 'configuration file (default: $SHAOBING_CONFIG, else ./shaobing.yaml)';

export interface UserCommandOptions {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  stdin?: NodeJS.ReadStream;
}

interface Common {
  config?: string;
}

export function registerUserCommands(program: Command, options: UserCommandOptions = {}): Command {
  const out = options.stdout ?? ((text: string) => process.stdout.write(text));
  const err = options.stderr ?? ((text: string) => process.stderr.write(text));
  const stdin = options.stdin ?? process.stdin;

  const open = (flags: Common) => {
    const config = loadConfig(configPath(flags.config));
    const paths = consolePaths(config);
    return { config, paths, users: new UserDirectory(paths.usersFile) };
  };
  const audit = async (config: Config, input: Omit<AuditInput, 'user'>) => {
    const { queued } = await recordCliAudit(config, consolePaths(config), { user: cliUser(), ...input });
    if (queued) err(`note: the store is busy (a running daemon holds it); the audit entry waits in ${queued} and the console records it\n`);
  };
  const password = async (flags: { passwordStdin?: boolean }, confirm: boolean): Promise<string> => {
    if (flags.passwordStdin) return readFirstLine(stdin);
    if (!stdin.isTTY) {
      throw new ShaobingError('SB_CONSOLE_BAD_REQUEST', 'no terminal to ask for the password on; pipe it in with --password-stdin');
    }
    const first = await readHidden(stdin, 'password: ');
    if (confirm && (await readHidden(stdin, 'again: ')) !== first) throw new ShaobingError('SB_CONSOLE_BAD_REQUEST', 'the two passwords differ');
    return first;
  };

  const user = program.command('user').description("the web console's local users (users file: console.users_file)");

  user
    .command('add <name>')
    .description('add a console user; the password is asked for (twice), or read from standard input with --password-stdin')
    .addOption(new Option('--role <role>', 'what the user may do').choices([...CONSOLE_ROLES]).makeOptionMandatory())
    .option('--display-name <name>', 'the name shown in the console and the handling record')
    .option('--password-stdin', 'read the password from the first line of standard input (for scripts)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (name: string, flags: Common & { role: ConsoleRole; displayName?: string; passwordStdin?: boolean }) => {
      const { config, users } = open(flags);
      if (users.find(name)) throw new ShaobingError('SB_CONSOLE_USERS_FILE', `${users.file}: user "${name}" already exists`);
      const view = await users.add(
        { name, role: flags.role, password: await password(flags, true), ...(flags.displayName ? { display_name: flags.displayName } : {}) },
        new Date().toISOString(),
      );
      await audit(config, { action: 'user.add', target: `user:${name}`, after: view });
      out(`user ${name} added (${flags.role}) in ${users.file}\n`);
    });

  user
    .command('passwd <name>')
    .description("set a user's password; the user's signed-in sessions end")
    .option('--password-stdin', 'read the password from the first line of standard input (for scripts)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(async (name: string, flags: Common & { passwordStdin?: boolean }) => {
      const { config, users } = open(flags);
      if (!users.find(name)) throw new ShaobingError('SB_CONSOLE_USERS_FILE', `${users.file}: no user "${name}"`);
      await users.update(name, { password: await password(flags, true) }, new Date().toISOString());
      await audit(config, { action: 'user.password', target: `user:${name}`, after: { sessions_revoked: true } });
      out(`password of ${name} changed; their sessions have ended\n`);
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(`${verb} <name>`)
      .description(disabled ? 'stop a user from signing in, and end their sessions' : 'let a disabled user sign in again')
      .option('-c, --config <file>', CONFIG_HELP)
      .action(async (name: string, flags: Common) => {
        const { config, users } = open(flags);
        if (!users.find(name)) throw new ShaobingError('SB_CONSOLE_USERS_FILE', `${users.file}: no user "${name}"`);
        const { before, after } = await users.update(name, { disabled }, new Date().toISOString());
        await audit(config, { action: `user.${verb}`, target: `user:${name}`, before, after });
        out(`user ${name} ${disabled ? 'disabled; their sessions have ended' : 'enabled'}\n`);
      });
  }

  user
    .command('list')
    .description('list the console users (never their password hashes)')
    .option('--json', 'one JSON object per line')
    .option('-c, --config <file>', CONFIG_HELP)
    .action((flags: Common & { json?: boolean }) => {
      const { users } = open(flags);
      const views = users.list().map(userView);
      if (flags.json) {
        out(views.map((v) => `${JSON.stringify(v)}\n`).join(''));
        return;
      }
      if (views.length === 0) {
        out(`no users in ${users.file}; add one with: shaobing user add <name> --role admin\n`);
        return;
      }
      const rows = views.map((v) => [v.name, v.role, v.disabled ? 'disabled' : 'active', v.display_name ?? '']);
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 4));
      out(rows.map((r) => `${r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd()}\n`).join(''));
    });

  return user;
}

async function readFirstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new ShaobingError('SB_CONSOLE_BAD_REQUEST', '--password-stdin: standard input held no password');
  return line;
}

/** Reads a line from the terminal without echoing it. */
function readHidden(input: NodeJS.ReadStream, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          reject(new ShaobingError('SB_CONSOLE_BAD_REQUEST', 'cancelled'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    input.on('data', onData);
  });
}
