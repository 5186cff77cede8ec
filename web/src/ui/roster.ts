/*
 * The roster's rules, apart from the DOM (meeting.ts draws them):
 *
 *   hostActions   which host buttons a roster entry gets: only hosts see
 *                 any; nobody acts on oneself; "make host" only for guests.
 *   diffRoster    what changed between the members shown and a fresh
 *                 member list (`joined` after a reconnect).
 *   SpeakerMark   which tile carries the active-speaker mark: the latest
 *                 `active_speaker` if that member is still there.
 *   placeLeaves   which participant each leaf of the encrypted group
 *                 stands for, and the leaves that stand for none: no
 *                 participant id, or a second leaf under one id. Those are
 *                 listed on their own, never hidden.
 */
import type { Member } from '../e2ee/mls-protocol';
import type { Participant, Role } from '../signaling/protocol';

export interface HostActions {
  readonly remove: boolean;
  readonly promote: boolean;
  readonly askMute: boolean;
}

export const NO_ACTIONS: HostActions = { remove: false, promote: false, askMute: false };

export function hostActions(selfRole: Role, selfId: string, member: Participant): HostActions {
  if (selfRole !== 'host' || member.id === selfId) return NO_ACTIONS;
  return { remove: true, promote: member.role !== 'host', askMute: true };
}

export interface RosterDiff {
  /** Shown now, absent from the new list. */
  readonly gone: readonly string[];
  /** In the new list, not shown now. */
  readonly added: readonly Participant[];
  /** In both, with another name or role. */
  readonly changed: readonly Participant[];
}

export function diffRoster(shown: ReadonlyMap<string, Participant>, next: readonly Participant[]): RosterDiff {
  const ids = new Set(next.map((p) => p.id));
  const gone = [...shown.keys()].filter((id) => !ids.has(id));
  const added: Participant[] = [];
  const changed: Participant[] = [];
  for (const p of next) {
    const old = shown.get(p.id);
    if (!old) added.push(p);
    else if (old.name !== p.name || old.role !== p.role) changed.push(p);
  }
  return { gone, added, changed };
}

/** The active speaker, remembered even before its tile exists. */
export class SpeakerMark {
  #id: string | null = null;

  get current(): string | null {
    return this.#id;
  }

  /** A new speaker; returns the one whose mark must go (or null). */
  set(id: string): string | null {
    const before = this.#id;
    this.#id = id;
    return before !== null && before !== id ? before : null;
  }

  /** A member left: its mark goes with it. */
  forget(id: string): void {
    if (this.#id === id) this.#id = null;
  }

  clear(): void {
    this.#id = null;
  }

  is(id: string): boolean {
    return this.#id === id;
  }
}

export interface PlacedLeaves {
  /** The lowest leaf under each participant id. */
  readonly byParticipant: ReadonlyMap<string, Member>;
  /** Every other leaf (not our own), keyed "leaf:<index>". */
  readonly unplaced: ReadonlyMap<string, Member>;
}

export function placeLeaves(members: readonly Member[]): PlacedLeaves {
  const byParticipant = new Map<string, Member>();
  const unplaced = new Map<string, Member>();
  for (const m of [...members].sort((a, b) => a.leaf - b.leaf)) {
    if (m.participant !== '' && !byParticipant.has(m.participant)) byParticipant.set(m.participant, m);
    else if (!m.self) unplaced.set(`leaf:${m.leaf}`, m);
  }
  return { byParticipant, unplaced };
}
