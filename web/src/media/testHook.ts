/*
 * Test hook (for automated tests only; not an interface for anything else):
 *
 *   window.__conclave.stats()
 *     → Promise<{ [participantId]: { framesDecoded, audioBytesReceived } }>
 *
 * Receive counters of the subscribe connection, per publishing participant:
 * inbound-rtp video framesDecoded and inbound-rtp audio bytesReceived,
 * attributed by SSRC through the latest subscribe offer (media/remote.ts).
 * Empty outside a meeting.
 *
 *   window.__conclave.inbound()
 *     → Promise<[{ mid, participant, source, kind, framesDecoded, bytesReceived }]>:
 *       the same counters per subscribe m-line, with what it carries
 *       (microphone, camera or screen): to see a screen share decoded, or
 *       the video of a paged-out tile stop.
 *
 *   window.__conclave.ice()
 *     → { publish, subscribe }: the iceConnectionState of each connection
 *       ('none' if it does not exist), for diagnostics when media does not flow.
 *
 *   window.__conclave.outbound()
 *     → Promise<[{ ssrc, kind, mimeType, rid, framesEncoded }]>: what the
 *       publish connection sends (to match a server-side tap of forwarded
 *       packets to its sender; rid names a simulcast encoding).
 *
 *   window.__conclave.e2ee()
 *     → Promise<{ status, epoch, securityCode, ownLeaf, epochSince, members, sframe, appSent }>:
 *       the end-to-end encryption state (status of the MLS session, the
 *       current epoch, the security code every member also shows, our leaf,
 *       when the epoch's key arrived,
 *       the MLS members [{ leaf, participant, name }]), the SFrame
 *       worker's frame counters (e2ee/sframe-protocol.ts SFrameStats) and
 *       the MLS application messages sent, by kind ({ chat, hand, net, … }).
 *
 * All of the above are counters, states and what the page shows anyway: no
 * media, no keys.
 *
 * Only when the page was started with `window.__conclaveTestHooks = true`
 * set before the app ran (a test harness's init script; nothing in the app
 * sets it, and a script that runs later cannot turn it on) there is also
 * `window.__conclave.testing`, which hands out and takes in MLS group state
 * for the forward-secrecy test: exportGroupState(), observeWithState(state),
 * observeCommit(commit) (app/encryption.ts). These expose secrets on
 * purpose and exist for that test only.
 */
import type { InboundInfo, ParticipantStats } from './remote';

export interface OutboundInfo {
  readonly ssrc: number;
  readonly kind: string;
  readonly mimeType: string | null;
  readonly rid: string | null;
  readonly framesEncoded: number;
}

export interface E2eeInfo {
  readonly status: string;
  readonly epoch: number | null;
  readonly securityCode: string | null;
  readonly ownLeaf: number | null;
  /** When (Date.now()) this page got the current epoch's key. */
  readonly epochSince: number | null;
  readonly members: readonly { readonly leaf: number; readonly participant: string; readonly name: string }[];
  readonly sframe: unknown;
  /** MLS application messages this page sent, by kind (chat, hand, net, admit, revoke). */
  readonly appSent: Readonly<Record<string, number>>;
}

/** The secret-handling test functions (see above). */
export interface TestingHooks {
  /** Our MLS group state (base64url), or null outside a group. */
  exportGroupState(): Promise<string | null>;
  /** Takes on someone else's group state: its epoch's key decrypts what arrives here. Returns the epoch. */
  observeWithState(state: string): Promise<number>;
  /** Processes a commit with that state: 'epoch' if it yields a new key (installed), else 'removed' or 'ignored'. */
  observeCommit(commit: string): Promise<'epoch' | 'removed' | 'ignored'>;
}

export interface ConclaveTestHook {
  stats(): Promise<Record<string, ParticipantStats>>;
  inbound(): Promise<InboundInfo[]>;
  ice(): Record<string, string>;
  outbound(): Promise<OutboundInfo[]>;
  e2ee(): Promise<E2eeInfo | null>;
  testing?: TestingHooks;
}

declare global {
  interface Window {
    __conclave?: ConclaveTestHook;
    __conclaveTestHooks?: boolean;
  }
}

export interface StatsSource {
  stats(): Promise<Record<string, ParticipantStats>>;
  inbound(): Promise<InboundInfo[]>;
  iceStates(): Record<string, string>;
  outbound(): Promise<OutboundInfo[]>;
}

export interface E2eeSource {
  info(): Promise<E2eeInfo>;
  readonly testing: TestingHooks;
}

/** Read once, when the app's modules are first evaluated. */
const TESTING = typeof window !== 'undefined' && window.__conclaveTestHooks === true;

/**
 * Installs the hook; `current` names the transport of the meeting in
 * progress, `e2ee` the encryption of the visit, if any.
 */
export function installTestHook(current: () => StatsSource | null, e2ee: () => E2eeSource | null = () => null): void {
  if (typeof window === 'undefined') return;
  const notInGroup = (): Error => new Error('no encryption session');
  const hook: ConclaveTestHook = {
    stats: async () => (await current()?.stats()) ?? {},
    inbound: async () => (await current()?.inbound()) ?? [],
    ice: () => current()?.iceStates() ?? { publish: 'none', subscribe: 'none' },
    outbound: async () => (await current()?.outbound()) ?? [],
    e2ee: async () => (await e2ee()?.info()) ?? null,
  };
  if (TESTING) {
    hook.testing = {
      exportGroupState: async () => {
        const s = e2ee();
        if (!s) throw notInGroup();
        return s.testing.exportGroupState();
      },
      observeWithState: async (state) => {
        const s = e2ee();
        if (!s) throw notInGroup();
        return s.testing.observeWithState(state);
      },
      observeCommit: async (commit) => {
        const s = e2ee();
        if (!s) throw notInGroup();
        return s.testing.observeCommit(commit);
      },
    };
  }
  window.__conclave = hook;
}
