import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type Logger, silentLogger } from './logger';

export interface WatchFilesOptions {
  /** Quiet period after the last file event before `onChange` runs; default 300 ms (editors write in bursts). */
  debounceMillis?: number;
  /** Default: silent. */
  log?: Logger;
  /** What the files are, for the log: "topic files", "the duty roster". */
  what?: string;
}

/**
 * Calls `onChange` once the files (or the *.yaml of folders) have changed and the writes have
 * settled. Watches the directories rather than the files: editors save by writing a new file and
 * renaming it over the old, which ends a watch on the file itself. Returns a function that stops
 * watching, safe to call twice. A directory that cannot be watched is logged, never thrown: the
 * files still work, they just need a restart to reload.
 */
export function watchFiles(paths: readonly string[], onChange: () => void, options: WatchFilesOptions = {}): () => void {
  const log = options.log ?? silentLogger;
  const what = options.what ?? 'files';
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, options.debounceMillis ?? 300);
    timer.unref();
  };

  const wanted = new Map<string, Set<string> | 'all'>();
  for (const path of paths) {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // A file not there yet: watch its directory for it.
    }
    if (isDirectory) wanted.set(path, 'all');
    else {
      const names = wanted.get(dirname(path));
      if (names !== 'all') wanted.set(dirname(path), (names ?? new Set()).add(basename(path)));
    }
  }
  for (const [dir, names] of wanted) {
    try {
      const watcher = watch(dir, (_event, name) => {
        if (names === 'all' || (name !== null && names.has(name.toString()))) schedule();
      });
      watcher.on('error', (err) => log.warn({ err, dir }, `watching ${what} failed; restart to reload`));
      watchers.push(watcher);
    } catch (err) {
      log.warn({ err, dir }, `cannot watch ${what}; restart to reload`);
    }
  }
  return () => {
    clearTimeout(timer);
    timer = undefined;
    for (const watcher of watchers.splice(0)) watcher.close();
  };
}
