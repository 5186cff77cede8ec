/*
 * The SFrame worker (an ES module worker): every encoded audio and video
 * frame this client sends or receives passes through here (DESIGN.md §5).
 *
 * One worker per page holds one SFrameKeyStore, so all senders share the
 * one counter of our KID (sframe-keys.ts). Frames arrive either through
 * `rtctransform` events (RTCRtpScriptTransform, the standard way, which
 * Chromium supports without flags) or, as a fallback, as the
 * {readable, writable} pair of createEncodedStreams() posted by transform.ts.
 * Keys arrive by message from the UI thread as non-extractable CryptoKeys,
 * one per MLS epoch; older epochs are wiped after the grace period.
 *
 * Started by transform.ts with
 *   new Worker(new URL('./sframe-worker.ts', import.meta.url), { type: 'module' })
 */
import { SFrameKeyStore } from './sframe-keys';
import { type KeyFrameRequester, FramePipeline } from './sframe-pipeline';
import { type SFrameReply, isTransformOptions } from './sframe-protocol';
import { workerScope } from './worker-scope';

const store = new SFrameKeyStore();
const pipeline = new FramePipeline(store);

/** RTCRtpScriptTransformer, as far as we use it. */
interface Transformer extends KeyFrameRequester {
  readonly options: unknown;
  readonly readable: ReadableStream;
  readonly writable: WritableStream;
}

workerScope.addEventListener('rtctransform', (ev: Event) => {
  const t = (ev as Event & { readonly transformer?: Transformer }).transformer;
  if (!t || !isTransformOptions(t.options)) return;
  pipeline.attach(t.options, t.readable, t.writable, t);
});

type Msg = Record<string, unknown>;

function isKeyMessage(m: Msg): boolean {
  return typeof m['epoch'] === 'number' && m['baseKey'] instanceof CryptoKey &&
    typeof m['ownLeaf'] === 'number' && Array.isArray(m['members']);
}

workerScope.onmessage = (ev) => {
  const m = ev.data;
  if (typeof m !== 'object' || m === null) return;
  const msg = m as Msg;
  switch (msg['type']) {
    case 'key': {
      if (!isKeyMessage(msg)) return;
      const members = new Map<number, string>();
      for (const pair of msg['members'] as unknown[]) {
        if (Array.isArray(pair) && typeof pair[0] === 'number' && typeof pair[1] === 'string' && pair[1] !== '') members.set(pair[0], pair[1]);
      }
      pipeline.setEpoch({
        epoch: msg['epoch'] as number,
        baseKey: msg['baseKey'] as CryptoKey,
        ownLeaf: msg['ownLeaf'] as number,
        members,
      });
      return;
    }
    case 'wipe':
      store.wipe();
      return;
    case 'streams':
      if (isTransformOptions(msg['options']) && msg['readable'] instanceof ReadableStream && msg['writable'] instanceof WritableStream) {
        pipeline.attach(msg['options'], msg['readable'], msg['writable']);
      }
      return;
    case 'participant':
      if (typeof msg['id'] === 'number' && (typeof msg['participant'] === 'string' || msg['participant'] === null)) {
        pipeline.setParticipant(msg['id'], msg['participant']);
      }
      return;
    case 'stats':
      if (typeof msg['id'] === 'number') {
        const reply: SFrameReply = { type: 'stats', id: msg['id'], stats: pipeline.stats() };
        workerScope.postMessage(reply);
      }
      return;
    default:
      return;
  }
};
