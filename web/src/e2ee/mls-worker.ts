/*
 * The MLS worker (an ES module worker): one MlsClient, driven by the typed
 * requests of mls-protocol.ts, one at a time and in order. The group state
 * and every MLS private key live only here.
 *
 * Started by mls-remote.ts with
 *   new Worker(new URL('./mls-worker.ts', import.meta.url), { type: 'module' })
 * which Vite builds into its own file under /assets/ (allowed by the
 * server's CSP `worker-src 'self' blob:`).
 */
import { MlsClient, inProcessMls } from './mls';
import { type MlsApi, type MlsResponse, isMlsRequest } from './mls-protocol';
import { workerScope } from './worker-scope';

let api: Promise<MlsApi> | null = null;
let queue: Promise<void> = Promise.resolve();

function reply(r: MlsResponse): void {
  workerScope.postMessage(r);
}

workerScope.onmessage = (ev) => {
  const req = ev.data;
  if (!isMlsRequest(req)) return;
  api ??= MlsClient.create().then(inProcessMls);
  queue = queue.then(async () => {
    try {
      const impl = await api!;
      const fn = impl[req.method] as (...args: readonly unknown[]) => Promise<unknown>;
      reply({ id: req.id, ok: true, result: await fn(...req.args) });
    } catch (e) {
      reply({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
};
