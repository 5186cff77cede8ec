/*
 * The end-to-end encryption of one visit to a meeting (DESIGN.md §5): the
 * MLS worker, the SFrame worker of the page and the session driver that
 * ties them to the signaling connection.
 *
 *   MlsWorkerClient   group keys, off the UI thread (e2ee/mls-remote.ts)
 *   MediaEncryption   one per visit, so every sender shares its counter
 *                     (e2ee/transform.ts); the media transport puts it on
 *                     every sender and receiver
 *   E2eeSession       the MLS side of the meeting (e2ee/session.ts): it
 *                     gets the server's lobby, joined, mls_… and participant_left
 *                     messages and sends what it must through `send`
 *
 * Made when a visit starts (before `join`, so that a guest publishes its
 * KeyPackage from the lobby) and kept across reconnects; the session itself
 * starts over in the group after a rejoin. Each epoch's SFrame key goes to
 * the media encryption at once; when the session leaves the group (removed,
 * a rejoin, lost track of the group) every media key is wiped, so nothing
 * more is sent or decrypted until the next epoch. close() wipes and stops
 * everything.
 */
import { base64urlDecode, base64urlEncode } from '../util/base64url';
import type { E2eeStatus } from '../e2ee/session';
import { E2eeSession, type E2eeOutbound } from '../e2ee/session';
import { MlsWorkerClient } from '../e2ee/mls-remote';
import type { MlsApi } from '../e2ee/mls-protocol';
import { MediaEncryption } from '../e2ee/transform';
import type { FrameCrypto } from '../media/transport';
import type { E2eeInfo, E2eeSource, TestingHooks } from '../media/testHook';

/** Each member commits a fresh leaf this often (post-compromise security, DESIGN.md §5). */
export const SELF_UPDATE_MS = 30 * 60_000;

export interface VisitEncryptionOptions {
  readonly roomId: string;
  /** Exactly the display name sent in `join`. */
  readonly name: string;
  /** INVITE of the link, if it had one. */
  readonly invite: string | null;
  readonly send: (msg: E2eeOutbound) => void;
}

export class VisitEncryption implements E2eeSource {
  readonly mls: MlsWorkerClient;
  readonly media: MediaEncryption;
  readonly session: E2eeSession;
  #status: E2eeStatus = 'idle';
  #closed = false;
  /** When (Date.now()) the current epoch's key arrived here. */
  #epochSince: number | null = null;

  constructor(opts: VisitEncryptionOptions) {
    this.mls = MlsWorkerClient.start();
    this.media = new MediaEncryption();
    this.session = new E2eeSession({
      roomId: opts.roomId,
      name: opts.name,
      invite: opts.invite,
      mls: this.mls,
      send: opts.send,
      selfUpdateMs: SELF_UPDATE_MS,
    });
    this.session.on('epoch', (e) => {
      this.media.setEpoch(e);
      this.#epochSince = Date.now();
    });
    this.session.on('status', (s) => {
      if (this.#status === 'in-group' && s !== 'in-group') this.media.wipe();
      this.#status = s;
    });
    this.session.on('error', (msg) => console.warn(`conclave: end-to-end encryption: ${msg}`));
  }

  /** Whether this browser can encrypt media frames at all (if not: no media). */
  static supported(): boolean {
    return MediaEncryption.supported();
  }

  /** What the media transport puts on every sender and receiver. */
  get frameCrypto(): FrameCrypto {
    const media = this.media;
    return {
      peerConnectionConfig: () => MediaEncryption.peerConnectionConfig(),
      encryptSender: (sender, kind) => media.encryptSender(sender, kind),
      decryptReceiver: (receiver, kind, participant) => media.decryptReceiver(receiver, kind, participant),
    };
  }

  /** Wipes every key and stops both workers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.media.close();
    void this.session.close().finally(() => this.mls.terminate());
  }

  // ---- test hook (media/testHook.ts) ---------------------------------------------------

  async info(): Promise<E2eeInfo> {
    const es = this.session.current;
    const sframe = this.#closed ? null : await this.media.stats();
    return {
      status: this.session.status,
      epoch: es?.epoch ?? null,
      securityCode: es?.securityCode ?? null,
      ownLeaf: es?.ownLeaf ?? null,
      epochSince: es ? this.#epochSince : null,
      members: (es?.members ?? []).map((m) => ({ leaf: m.leaf, participant: m.participant, name: m.name })),
      sframe,
      appSent: this.session.appSent,
    };
  }

  get testing(): TestingHooks {
    const mls: MlsApi = this.mls;
    return {
      exportGroupState: async () => {
        const s = await mls.exportState();
        return s ? base64urlEncode(s) : null;
      },
      observeWithState: async (state) => {
        const bytes = base64urlDecode(state);
        if (!bytes) throw new Error('not base64url');
        const es = await mls.importState(bytes);
        this.media.setEpoch(es);
        return es.epoch;
      },
      observeCommit: async (commit) => {
        const bytes = base64urlDecode(commit);
        const r = bytes ? await mls.processCommit(bytes) : null;
        if (!r) return 'ignored';
        if (r.kind === 'removed') return 'removed';
        this.media.setEpoch(r.state);
        return 'epoch';
      },
    };
  }
}
