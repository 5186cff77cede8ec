import { describe, expect, it } from 'vitest';
import type { Participant } from '../signaling/protocol';
import type { Member } from '../e2ee/mls-protocol';
import { NO_ACTIONS, SpeakerMark, diffRoster, hostActions, placeLeaves } from './roster';

const hanna: Participant = { id: 'h', name: 'Hanna', role: 'host' };
const gustav: Participant = { id: 'g', name: 'Gustav', role: 'guest' };
const otto: Participant = { id: 'o', name: 'Otto', role: 'host' };

describe('host actions on a roster entry', () => {
  it('gives hosts remove, make host and ask to mute on guests', () => {
    expect(hostActions('host', 'h', gustav)).toEqual({ remove: true, promote: true, askMute: true });
  });

  it('offers no "make host" for someone already a host', () => {
    expect(hostActions('host', 'h', otto)).toEqual({ remove: true, promote: false, askMute: true });
  });

  it('gives nothing on one’s own entry, and nothing to guests', () => {
    expect(hostActions('host', 'h', hanna)).toEqual(NO_ACTIONS);
    expect(hostActions('guest', 'g', hanna)).toEqual(NO_ACTIONS);
    expect(hostActions('guest', 'g', otto)).toEqual(NO_ACTIONS);
  });
});

describe('roster after a reconnect', () => {
  const shown = new Map<string, Participant>([
    ['h', hanna],
    ['g', gustav],
    ['x', { id: 'x', name: 'Xaver', role: 'guest' }],
  ]);

  it('finds who is gone, who is new and whose role changed', () => {
    const next: Participant[] = [hanna, { ...gustav, role: 'host' }, otto];
    expect(diffRoster(shown, next)).toEqual({ gone: ['x'], added: [otto], changed: [{ ...gustav, role: 'host' }] });
  });

  it('sees no change in the same list', () => {
    expect(diffRoster(shown, [...shown.values()])).toEqual({ gone: [], added: [], changed: [] });
  });

  it('handles an empty meeting (the first back after a restart)', () => {
    expect(diffRoster(shown, [hanna]).gone).toEqual(['g', 'x']);
    expect(diffRoster(new Map(), [hanna]).added).toEqual([hanna]);
  });
});

describe('active speaker mark', () => {
  it('moves from one speaker to the next', () => {
    const m = new SpeakerMark();
    expect(m.set('a')).toBeNull();
    expect(m.is('a')).toBe(true);
    expect(m.set('a')).toBeNull();
    expect(m.set('b')).toBe('a');
    expect(m.current).toBe('b');
  });

  it('goes away with its member', () => {
    const m = new SpeakerMark();
    m.set('a');
    m.forget('b');
    expect(m.current).toBe('a');
    m.forget('a');
    expect(m.current).toBeNull();
    m.set('c');
    m.clear();
    expect(m.is('c')).toBe(false);
  });
});

describe('leaves of the encrypted group in the roster', () => {
  const leaf = (n: number, participant: string, name: string, self = false): Member => ({
    leaf: n, participant, name, self, signatureKey: String(n).padStart(64, '0'),
  });

  it('puts each leaf on its participant, and lists the ones that stand for none or for one already placed', () => {
    const placed = placeLeaves([leaf(3, 'g', 'Gustav again'), leaf(0, 'h', 'Hanna', true), leaf(1, 'g', 'Gustav'), leaf(2, '', 'Nobody')]);
    expect([...placed.byParticipant].map(([id, m]) => [id, m.leaf])).toEqual([
      ['h', 0],
      ['g', 1],
    ]);
    expect([...placed.unplaced].map(([key, m]) => [key, m.name])).toEqual([
      ['leaf:2', 'Nobody'],
      ['leaf:3', 'Gustav again'],
    ]);
  });

  it('has nothing unplaced in an ordinary group', () => {
    expect(placeLeaves([leaf(0, 'h', 'Hanna', true), leaf(1, 'g', 'Gustav')]).unplaced.size).toBe(0);
  });
});
