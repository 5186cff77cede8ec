/*
 * The little of a dedicated worker's global scope that our worker entries
 * use, typed by hand. The app's tsconfig has the DOM library, where `self`
 * is a Window; pulling in the WebWorker library too would clash with it. So
 * the worker entries type-check under either library through this view (and
 * src/e2ee/tsconfig.worker.json checks them under WebWorker alone).
 */

export interface WorkerScope {
  onmessage: ((ev: MessageEvent<unknown>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: (ev: Event) => void): void;
}

export const workerScope = globalThis as unknown as WorkerScope;
