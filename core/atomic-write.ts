import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file atomically: a temporary file in the same folder (rename is atomic only within
 * one file system), fsync, rename over the old one. A crash leaves the old file or the new one,
 * never half of either, and a reader never sees a partial write. The temporary name starts with a
 * dot and ends in `.tmp`, so tools listing `*.yaml` in the folder do not pick it up.
 */
export function writeFileAtomic(file: string, data: string, options: { /** Exact permission bits (the umask does not apply); default 0644 less the umask. */ mode?: number } = {}): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  try {
    if (options.mode !== undefined) fchmodSync(fd, options.mode);
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
