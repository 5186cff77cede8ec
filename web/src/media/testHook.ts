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
 *   window.__conclave.ice()
 *     → { publish, subscribe }: the iceConnectionState of each connection
 *       ('none' if it does not exist), for diagnostics when media does not flow.
 *
 * It exposes counters and states only: no media, no keys, no names.
 */
import type { ParticipantStats } from './remote';

export interface ConclaveTestHook {
  stats(): Promise<Record<string, ParticipantStats>>;
  ice(): Record<string, string>;
}

declare global {
  interface Window {
    __conclave?: ConclaveTestHook;
  }
}

export interface StatsSource {
  stats(): Promise<Record<string, ParticipantStats>>;
  iceStates(): Record<string, string>;
}

/** Installs the hook; `current` names the transport of the meeting in progress, if any. */
export function installTestHook(current: () => StatsSource | null): void {
  if (typeof window === 'undefined') return;
  window.__conclave = {
    stats: async () => (await current()?.stats()) ?? {},
    ice: () => current()?.iceStates() ?? { publish: 'none', subscribe: 'none' },
  };
}
