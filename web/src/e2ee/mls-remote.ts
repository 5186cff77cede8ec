/*
 * The UI thread's handle on the MLS worker: MlsApi as asynchronous calls
 * over postMessage (mls-protocol.ts). Each call gets an id; the worker
 * answers each once. If the worker dies, every waiting and later call
 * fails (the session then reports the group as lost; nothing falls back to
 * running MLS on the UI thread).
 */
import {
  type AppMessage,
  type CommitOutcome,
  type CommitRequest,
  type CommitResult,
  type EpochState,
  type KeyPackageInfo,
  type MlsApi,
  type MlsMethod,
  type MlsRequest,
  isMlsResponse,
} from './mls-protocol';

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class MlsWorkerClient implements MlsApi {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private dead: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<unknown>) => {
      const r = ev.data;
      if (!isMlsResponse(r)) return;
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.result);
      else w.reject(new Error(r.error));
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.fail(new Error(`MLS worker failed: ${ev.message}`));
    };
  }

  /** Starts the MLS worker (a module worker built by Vite under /assets/). */
  static start(): MlsWorkerClient {
    return new MlsWorkerClient(new Worker(new URL('./mls-worker.ts', import.meta.url), { type: 'module' }));
  }

  private call<R>(method: MlsMethod, args: unknown[]): Promise<R> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, method, args } as MlsRequest);
    });
  }

  keyPackage(identity: string, name: string): Promise<Uint8Array> {
    return this.call('keyPackage', [identity, name]);
  }
  inspectKeyPackage(keyPackage: Uint8Array, roomId: string): Promise<KeyPackageInfo | null> {
    return this.call('inspectKeyPackage', [keyPackage, roomId]);
  }
  createGroup(roomId: string): Promise<EpochState> {
    return this.call('createGroup', [roomId]);
  }
  joinFromWelcome(welcome: Uint8Array, roomId: string): Promise<EpochState | null> {
    return this.call('joinFromWelcome', [welcome, roomId]);
  }
  current(): Promise<EpochState | null> {
    return this.call('current', []);
  }
  createCommit(req: CommitRequest): Promise<CommitResult> {
    return this.call('createCommit', [req]);
  }
  confirmCommit(): Promise<CommitOutcome> {
    return this.call('confirmCommit', []);
  }
  discardCommit(): Promise<void> {
    return this.call('discardCommit', []);
  }
  processCommit(commit: Uint8Array): Promise<CommitOutcome | null> {
    return this.call('processCommit', [commit]);
  }
  encrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.call('encrypt', [data]);
  }
  decrypt(msg: Uint8Array): Promise<AppMessage | null> {
    return this.call('decrypt', [msg]);
  }
  exportState(): Promise<Uint8Array | null> {
    return this.call('exportState', []);
  }
  importState(state: Uint8Array): Promise<EpochState> {
    return this.call('importState', [state]);
  }
  leave(): Promise<void> {
    return this.call('leave', []);
  }
  wipe(): Promise<void> {
    return this.call('wipe', []);
  }

  /** Wipes the worker's secrets, then stops it. */
  async terminate(): Promise<void> {
    try {
      await this.wipe();
    } finally {
      this.worker.terminate();
      this.fail(new Error('MLS worker stopped'));
    }
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
