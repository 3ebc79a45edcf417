import net from 'node:net';

/**
 * A port free on 127.0.0.1 right now. Another process may take it before the caller binds it;
 * for a single developer machine or CI runner that race is rare enough to accept.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

/** `requested` unless it is 0/undefined; then a free port different from every port in `taken`. */
export async function portOrFree(requested: number | undefined, taken: number[] = []): Promise<number> {
  if (requested) return requested;
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port)) return port;
  }
}
