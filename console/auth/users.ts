import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { lock } from 'proper-lockfile';
import { z } from 'zod';
import { ShaobingError } from '../../core/errors';
import { type Logger, silentLogger } from '../../core/logger';
import { CONSOLE_LANGUAGES } from '../config';
import { CONSOLE_ROLES, type ConsoleUser } from '../context';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import { writeFileAtomic } from '../../core/atomic-write';

/**
 * The console's local users, in one JSON file (`console.users_file`). Not in the store: the
 * embedded store is locked by the running daemon, and `shaobing user add` must work beside it.
 * Every write replaces the file atomically (temporary file, fsync, rename) with mode 0600; readers
 * notice a change by its stat and read it again, so a user added from the shell can sign in at once.
 * Each change reads, modifies and writes the file under a lock (proper-lockfile's `<file>.lock`
 * directory), so the console and `shaobing user …` changing it at once both keep their change.
 *
 * `generation` counts password changes and disablings: a session carries the generation it was
 * issued under and dies when the number moves on.
 */

export const USER_NAME = z
  .string()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,63}$/u, 'a user name: 1–64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit')
  .refine((n) => n !== 'system', '"system" is reserved for the pipeline');

export const PASSWORD = z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(MAX_PASSWORD_LENGTH);
export const ROLE = z.enum(CONSOLE_ROLES);
export const DISPLAY_NAME = z.string().trim().min(1).max(100);
export const LANGUAGE = z.enum(CONSOLE_LANGUAGES);

const IsoTime = z.iso.datetime({ offset: true });

const StoredUser = z.strictObject({
  name: USER_NAME,
  role: ROLE,
  display_name: DISPLAY_NAME.optional(),
  password_hash: z.string().startsWith('$argon2'),
  disabled: z.boolean().default(false),
  generation: z.number().int().min(0).default(0),
  language: LANGUAGE.optional(),
  created_at: IsoTime,
  updated_at: IsoTime,
});
export type StoredUser = z.output<typeof StoredUser>;

const UsersFileSchema = z.strictObject({ users: z.array(StoredUser) });

/** A user as the API and the audit log show one: never the hash. */
export interface UserView extends ConsoleUser {
  disabled: boolean;
  language?: z.output<typeof LANGUAGE>;
  created_at: string;
  updated_at: string;
}

export function userView(user: StoredUser): UserView {
  return {
    name: user.name,
    role: user.role,
    ...(user.display_name ? { display_name: user.display_name } : {}),
    disabled: user.disabled,
    ...(user.language ? { language: user.language } : {}),
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

export interface NewUser {
  name: string;
  role: StoredUser['role'];
  password: string;
  display_name?: string;
}

export interface UserChange {
  role?: StoredUser['role'];
  disabled?: boolean;
  password?: string;
  /** null removes it. */
  display_name?: string | null;
  language?: StoredUser['language'];
}

function valid<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ShaobingError('SB_CONSOLE_BAD_REQUEST', `${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function usersFileError(file: string, message: string, cause?: unknown): ShaobingError {
  return new ShaobingError('SB_CONSOLE_USERS_FILE', `${file}: ${message}`, cause === undefined ? {} : { cause });
}

export class UserDirectory {
  readonly file: string;
  readonly #log: Logger;
  #users: StoredUser[] = [];
  #stamp = '';

  constructor(file: string, options: { log?: Logger } = {}) {
    this.file = file;
    this.#log = options.log ?? silentLogger;
  }

  /** Every user, from the file as it is now (re-read when its stat changed); a broken file keeps the last good list. */
  list(): readonly StoredUser[] {
    const stamp = this.#stat();
    if (stamp !== this.#stamp) {
      try {
        this.#users = this.#read();
      } catch (err) {
        this.#log.error({ err, file: this.file }, 'console users file unreadable; keeping the users last read');
      }
      this.#stamp = stamp;
    }
    return this.#users;
  }

  find(name: string): StoredUser | undefined {
    return this.list().find((u) => u.name === name);
  }

  async add(input: NewUser, at: string): Promise<UserView> {
    const name = valid(USER_NAME, input.name, 'name');
    const user: StoredUser = {
      name,
      role: valid(ROLE, input.role, 'role'),
      ...(input.display_name ? { display_name: valid(DISPLAY_NAME, input.display_name, 'display_name') } : {}),
      password_hash: await hashPassword(valid(PASSWORD, input.password, 'password')),
      disabled: false,
      generation: 0,
      created_at: at,
      updated_at: at,
    };
    await this.#locked(() => {
      const users = this.#read();
      if (users.some((u) => u.name === name)) throw usersFileError(this.file, `user "${name}" already exists`);
      this.#write([...users, user]);
    });
    return userView(user);
  }

  /** Applies a change; a new password or disabling ends the user's sessions (the generation moves on). */
  async update(name: string, change: UserChange, at: string): Promise<{ before: UserView; after: UserView; user: StoredUser }> {
    const hash = change.password === undefined ? undefined : await hashPassword(valid(PASSWORD, change.password, 'password'));
    return this.#locked(() => {
      const users = this.#read();
      const index = users.findIndex((u) => u.name === name);
      const current = users[index];
      if (!current) throw usersFileError(this.file, `no user "${name}"`);
      const revoke = hash !== undefined || (change.disabled === true && !current.disabled);
      const { display_name: _dropped, ...withoutDisplayName } = current;
      const next: StoredUser = {
        ...(change.display_name === null ? withoutDisplayName : current),
        ...(change.role ? { role: valid(ROLE, change.role, 'role') } : {}),
        ...(change.disabled === undefined ? {} : { disabled: change.disabled }),
        ...(hash ? { password_hash: hash } : {}),
        ...(change.display_name ? { display_name: valid(DISPLAY_NAME, change.display_name, 'display_name') } : {}),
        ...(change.language ? { language: valid(LANGUAGE, change.language, 'language') } : {}),
        generation: current.generation + (revoke ? 1 : 0),
        updated_at: at,
      };
      this.#write(users.map((u, i) => (i === index ? next : u)));
      return { before: userView(current), after: userView(next), user: next };
    });
  }

  /** Runs `change` holding the file's lock; a lock left by a crashed process goes stale after 10 s. */
  async #locked<T>(change: () => T): Promise<T> {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const release = await lock(this.file, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 50, minTimeout: 20, maxTimeout: 500 },
      lockfilePath: `${this.file}.lock`,
    }).catch((err: unknown) => {
      throw usersFileError(this.file, `cannot lock it for a change: ${(err as Error).message}`, err);
    });
    try {
      return change();
    } finally {
      await release();
    }
  }

  #stat(): string {
    try {
      const s = statSync(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  /** The file as it is now; missing means no users yet; malformed throws naming the file and key. */
  #read(): StoredUser[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw usersFileError(this.file, `cannot read: ${(err as Error).message}`, err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw usersFileError(this.file, `not JSON: ${(err as Error).message}`, err);
    }
    const parsed = UsersFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw usersFileError(this.file, `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    }
    return parsed.data.users;
  }

  #write(users: StoredUser[]): void {
    writeFileAtomic(this.file, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
    this.#users = users;
    this.#stamp = this.#stat();
  }
}
