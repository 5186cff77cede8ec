import { describe, expect, it } from 'vitest';
import { encodeClientMessage, MAX_INBOUND_CHARS, parseServerMessage } from './protocol';

const ok = (o: unknown) => parseServerMessage(JSON.stringify(o));

describe('server messages', () => {
  it('accepts every known type', () => {
    expect(ok({ type: 'welcome', v: 1, server: 'conclave/0.1.0', limits: { max_message_bytes: 65536, messages_per_second: 50 } })).toEqual({
      kind: 'message',
      msg: { type: 'welcome', v: 1, server: 'conclave/0.1.0', limits: { max_message_bytes: 65536, messages_per_second: 50 } },
    });
    expect(ok({ type: 'pong', id: 7 })).toEqual({ kind: 'message', msg: { type: 'pong', id: 7 } });
    expect(ok({ type: 'lobby' })).toEqual({ kind: 'message', msg: { type: 'lobby' } });
    const members = [
      { id: 'p1', name: 'Hanna', role: 'host' },
      { id: 'p2', name: 'Gustav', role: 'guest' },
    ];
    expect(ok({ type: 'joined', participant: 'p1', role: 'host', participants: members, knocks: [{ participant: 'p3', name: 'Grete' }] })).toEqual({
      kind: 'message',
      msg: { type: 'joined', participant: 'p1', role: 'host', participants: members, knocks: [{ participant: 'p3', name: 'Grete' }], locked: false },
    });
    expect(ok({ type: 'joined', participant: 'p2', role: 'guest', participants: members, knocks: [] }).kind).toBe('message');
    expect(ok({ type: 'participant_joined', participant: { id: 'p4', name: 'Nora', role: 'guest' } })).toEqual({
      kind: 'message',
      msg: { type: 'participant_joined', participant: { id: 'p4', name: 'Nora', role: 'guest' } },
    });
    expect(ok({ type: 'participant_left', participant: 'p4' })).toEqual({ kind: 'message', msg: { type: 'participant_left', participant: 'p4' } });
    expect(ok({ type: 'knock', participant: 'p5', name: 'Otto' })).toEqual({ kind: 'message', msg: { type: 'knock', participant: 'p5', name: 'Otto' } });
    expect(ok({ type: 'knock_gone', participant: 'p5' })).toEqual({ kind: 'message', msg: { type: 'knock_gone', participant: 'p5' } });
    expect(ok({ type: 'left' })).toEqual({ kind: 'message', msg: { type: 'left' } });
    expect(ok({ type: 'left', reason: 'media_timeout' })).toEqual({ kind: 'message', msg: { type: 'left', reason: 'media_timeout' } });
    expect(ok({ type: 'publish_answer', sdp: 'v=0\r\n' })).toEqual({ kind: 'message', msg: { type: 'publish_answer', sdp: 'v=0\r\n' } });
    expect(ok({ type: 'subscribe_offer', sdp: 'v=0\r\n', version: 3 })).toEqual({
      kind: 'message',
      msg: { type: 'subscribe_offer', sdp: 'v=0\r\n', version: 3 },
    });
    expect(ok({ type: 'denied' })).toEqual({ kind: 'message', msg: { type: 'denied' } });
    expect(ok({ type: 'ended' })).toEqual({ kind: 'message', msg: { type: 'ended' } });
    expect(ok({ type: 'error', code: 'bad_request', message: 'x', ref: 'join' })).toEqual({
      kind: 'message',
      msg: { type: 'error', code: 'bad_request', message: 'x', ref: 'join' },
    });
    expect(ok({ type: 'error', code: 'rate_limited', message: 'slow down' })).toEqual({
      kind: 'message',
      msg: { type: 'error', code: 'rate_limited', message: 'slow down' },
    });
  });

  const TOKEN = 'A'.repeat(60) + 'b-_9Zz';

  it('reads the access-control messages (host actions, rejoin tokens)', () => {
    const members = [{ id: 'p1', name: 'Hanna', role: 'host' }];
    expect(
      ok({ type: 'joined', participant: 'p1', role: 'host', participants: members, knocks: [], locked: true, rejoin: TOKEN, mls: { create: true, epoch: 0 } }),
    ).toEqual({
      kind: 'message',
      msg: { type: 'joined', participant: 'p1', role: 'host', participants: members, knocks: [], locked: true, rejoin: TOKEN, mls: { create: true, epoch: 0 } },
    });
    expect(ok({ type: 'pong', id: 3, rejoin: TOKEN })).toEqual({ kind: 'message', msg: { type: 'pong', id: 3, rejoin: TOKEN } });
    expect(ok({ type: 'removed' })).toEqual({ kind: 'message', msg: { type: 'removed' } });
    expect(ok({ type: 'role', participant: 'p2', role: 'host' })).toEqual({ kind: 'message', msg: { type: 'role', participant: 'p2', role: 'host' } });
    expect(ok({ type: 'locked', locked: false })).toEqual({ kind: 'message', msg: { type: 'locked', locked: false } });
    expect(ok({ type: 'mute_request', kind: 'audio', by: 'p1' })).toEqual({ kind: 'message', msg: { type: 'mute_request', kind: 'audio', by: 'p1' } });
    expect(ok({ type: 'active_speaker', participant: 'p2' })).toEqual({ kind: 'message', msg: { type: 'active_speaker', participant: 'p2' } });
  });

  it.each([
    ['joined with a locked string', { type: 'joined', participant: 'p', role: 'host', participants: [], knocks: [], locked: 'yes' }],
    ['joined with a token of the wrong alphabet', { type: 'joined', participant: 'p', role: 'host', participants: [], knocks: [], rejoin: 'a+b/c=' }],
    ['joined with an empty token', { type: 'joined', participant: 'p', role: 'host', participants: [], knocks: [], rejoin: '' }],
    ['joined with mls not an object', { type: 'joined', participant: 'p', role: 'host', participants: [], knocks: [], mls: true }],
    ['pong with a numeric token', { type: 'pong', id: 1, rejoin: 5 }],
    ['pong with an oversized token', { type: 'pong', id: 1, rejoin: 'A'.repeat(257) }],
    ['role with an unknown role', { type: 'role', participant: 'p', role: 'owner' }],
    ['role without participant', { type: 'role', role: 'host' }],
    ['locked without locked', { type: 'locked' }],
    ['locked with a number', { type: 'locked', locked: 1 }],
    ['mute_request with an unknown kind', { type: 'mute_request', kind: 'screen', by: 'p' }],
    ['mute_request without by', { type: 'mute_request', kind: 'audio' }],
    ['active_speaker with an empty id', { type: 'active_speaker', participant: '' }],
  ])('rejects %s', (_name, msg) => {
    expect(ok(msg).kind).toBe('invalid');
  });

  it('reads the simulcast, view and screen-share messages (tracks, layers, video_quality)', () => {
    const tracks = { s1: { participant: 'p2', source: 'camera', track: 't4' }, s3: { participant: 'p2', source: 'screen', track: 't7' } };
    const offer = ok({ type: 'subscribe_offer', sdp: 'v=0\r\n', version: 2, tracks });
    expect(offer).toEqual({ kind: 'message', msg: { type: 'subscribe_offer', sdp: 'v=0\r\n', version: 2, tracks } });
    // a mid named like an Object method is just a key
    const proto = ok({ type: 'subscribe_offer', sdp: 'v=0', version: 2, tracks: { toString: { participant: 'p', source: 'microphone', track: 't1' } } });
    expect(proto.kind === 'message' && proto.msg.type === 'subscribe_offer' && proto.msg.tracks?.['toString']?.source).toBe('microphone');
    expect(ok({ type: 'layers', mid: '1', active: [true, false, false] })).toEqual({ kind: 'message', msg: { type: 'layers', mid: '1', active: [true, false, false] } });
    expect(ok({ type: 'video_quality', mid: 's3', layer: -1, reason: 'bandwidth' })).toEqual({
      kind: 'message',
      msg: { type: 'video_quality', mid: 's3', layer: -1, reason: 'bandwidth' },
    });
    expect(ok({ type: 'video_quality', mid: 's3', layer: 2, reason: 'ok' })).toMatchObject({ kind: 'message' });
  });

  it.each([
    ['subscribe_offer with tracks as a list', { type: 'subscribe_offer', sdp: 'v=0', version: 1, tracks: [] }],
    ['subscribe_offer with an unknown source', { type: 'subscribe_offer', sdp: 'v=0', version: 1, tracks: { s1: { participant: 'p', source: 'window', track: 't1' } } }],
    ['subscribe_offer with a track without participant', { type: 'subscribe_offer', sdp: 'v=0', version: 1, tracks: { s1: { source: 'camera', track: 't1' } } }],
    ['layers with no encodings', { type: 'layers', mid: '1', active: [] }],
    ['layers with a number', { type: 'layers', mid: '1', active: [true, 1] }],
    ['layers without mid', { type: 'layers', active: [true] }],
    ['video_quality below -1', { type: 'video_quality', mid: 's1', layer: -2, reason: 'ok' }],
    ['video_quality with a fraction', { type: 'video_quality', mid: 's1', layer: 0.5, reason: 'ok' }],
    ['video_quality with an unknown reason', { type: 'video_quality', mid: 's1', layer: 0, reason: 'cpu' }],
  ])('rejects %s', (_name, msg) => {
    expect(ok(msg).kind).toBe('invalid');
  });

  it('reads the MLS delivery service messages (docs/protocol.md, "End-to-end encryption")', () => {
    const kp = { type: 'mls_keypackage', participant: 'p1', name: 'Ada', keypackage: 'AAEABQ-_', proof: 'x'.repeat(43), lobby: true };
    expect(ok(kp)).toEqual({ kind: 'message', msg: kp });
    const { proof: _p, ...noProof } = kp;
    expect(ok({ ...noProof, lobby: false })).toEqual({ kind: 'message', msg: { ...noProof, lobby: false } });
    expect(ok({ type: 'mls_commit', commit: 'AAEAAg', from: 'p2', epoch: 4 })).toEqual({ kind: 'message', msg: { type: 'mls_commit', commit: 'AAEAAg', from: 'p2', epoch: 4 } });
    expect(ok({ type: 'mls_commit_ok', epoch: 5 })).toEqual({ kind: 'message', msg: { type: 'mls_commit_ok', epoch: 5 } });
    expect(ok({ type: 'mls_commit_rejected', epoch: 5 })).toEqual({ kind: 'message', msg: { type: 'mls_commit_rejected', epoch: 5 } });
    expect(ok({ type: 'mls_welcome', welcome: 'AAEAAw', epoch: 5 })).toEqual({ kind: 'message', msg: { type: 'mls_welcome', welcome: 'AAEAAw', epoch: 5 } });
    expect(ok({ type: 'mls_app', msg: 'AAEAAg', from: 'p3', epoch: 5 })).toEqual({ kind: 'message', msg: { type: 'mls_app', msg: 'AAEAAg', from: 'p3', epoch: 5 } });
    // the server's joined.mls carries a field the client does not use
    expect(ok({ type: 'joined', participant: 'p', role: 'guest', participants: [], knocks: [], mls: { group: '', create: false, epoch: 7 } })).toMatchObject({
      kind: 'message',
      msg: { mls: { create: false, epoch: 7 } },
    });
  });

  it.each([
    ['mls_keypackage without keypackage', { type: 'mls_keypackage', participant: 'p', name: 'n', lobby: false }],
    ['mls_keypackage with padding', { type: 'mls_keypackage', participant: 'p', name: 'n', keypackage: 'AAE=', lobby: false }],
    ['mls_keypackage with a proof of the wrong alphabet', { type: 'mls_keypackage', participant: 'p', name: 'n', keypackage: 'AAE', proof: 'a+b/', lobby: false }],
    ['mls_keypackage with an oversized value', { type: 'mls_keypackage', participant: 'p', name: 'n', keypackage: 'A'.repeat(300_001), lobby: false }],
    ['mls_commit without from', { type: 'mls_commit', commit: 'AAE', epoch: 1 }],
    ['mls_commit with a string epoch', { type: 'mls_commit', commit: 'AAE', from: 'p', epoch: '1' }],
    ['mls_commit_ok with a negative epoch', { type: 'mls_commit_ok', epoch: -1 }],
    ['mls_welcome with an empty welcome', { type: 'mls_welcome', welcome: '', epoch: 1 }],
    ['mls_app with a number', { type: 'mls_app', msg: 5, from: 'p', epoch: 1 }],
    ['joined with mls without create', { type: 'joined', participant: 'p', role: 'host', participants: [], knocks: [], mls: { epoch: 0 } }],
  ])('rejects %s', (_name, msg) => {
    expect(ok(msg).kind).toBe('invalid');
  });

  it('drops fields it does not know', () => {
    expect(ok({ type: 'lobby', position: 3, extra: { a: 1 } })).toEqual({ kind: 'message', msg: { type: 'lobby' } });
    expect(ok({ type: 'pong', id: 1, at: 5 })).toEqual({ kind: 'message', msg: { type: 'pong', id: 1 } });
  });

  it('reports unknown types as unknown, not invalid (forward compatibility)', () => {
    expect(ok({ type: 'roster', members: [] })).toEqual({ kind: 'unknown', type: 'roster' });
    expect(ok({ type: 'toString' })).toEqual({ kind: 'unknown', type: 'toString' });
    expect(ok({ type: '__proto__' })).toEqual({ kind: 'unknown', type: '__proto__' });
  });

  it.each([
    ['binary frame', new ArrayBuffer(4)],
    ['not JSON', '{type:'],
    ['JSON array', '[]'],
    ['JSON null', 'null'],
    ['JSON string', '"welcome"'],
    ['no type', '{}'],
    ['numeric type', '{"type":1}'],
    ['empty type', '{"type":""}'],
    ['welcome without limits', JSON.stringify({ type: 'welcome', v: 1, server: 's' })],
    ['welcome with string version', JSON.stringify({ type: 'welcome', v: '1', server: 's', limits: { max_message_bytes: 1, messages_per_second: 1 } })],
    ['welcome with zero limit', JSON.stringify({ type: 'welcome', v: 1, server: 's', limits: { max_message_bytes: 0, messages_per_second: 1 } })],
    ['welcome with fractional limit', JSON.stringify({ type: 'welcome', v: 1, server: 's', limits: { max_message_bytes: 1.5, messages_per_second: 1 } })],
    ['pong without id', '{"type":"pong"}'],
    ['pong with negative id', '{"type":"pong","id":-1}'],
    ['pong with string id', '{"type":"pong","id":"1"}'],
    ['joined without participant', '{"type":"joined","role":"host","participants":[],"knocks":[]}'],
    ['joined without participants', '{"type":"joined","participant":"p","role":"host","knocks":[]}'],
    ['joined with a participant that is not an object', '{"type":"joined","participant":"p","role":"host","participants":["p"],"knocks":[]}'],
    ['joined with a participant without role', '{"type":"joined","participant":"p","role":"host","participants":[{"id":"p","name":"n"}],"knocks":[]}'],
    ['joined with knocks not a list', '{"type":"joined","participant":"p","role":"host","participants":[],"knocks":{}}'],
    ['participant_joined with a bare id', '{"type":"participant_joined","participant":"p"}'],
    ['participant_left with empty id', '{"type":"participant_left","participant":""}'],
    ['knock without name', '{"type":"knock","participant":"p"}'],
    ['left with numeric reason', '{"type":"left","reason":1}'],
    ['publish_answer without sdp', '{"type":"publish_answer"}'],
    ['subscribe_offer without version', '{"type":"subscribe_offer","sdp":"v=0"}'],
    ['subscribe_offer with negative version', '{"type":"subscribe_offer","sdp":"v=0","version":-1}'],
    ['joined with empty participant', '{"type":"joined","participant":"","role":"host","participants":[],"knocks":[]}'],
    ['joined with unknown role', '{"type":"joined","participant":"p","role":"admin","participants":[],"knocks":[]}'],
    ['error without code', '{"type":"error","message":"m"}'],
    ['error with numeric ref', '{"type":"error","code":"c","message":"m","ref":3}'],
    ['oversized frame', JSON.stringify({ type: 'lobby', pad: 'x'.repeat(MAX_INBOUND_CHARS) })],
  ])('rejects %s', (_name, data) => {
    expect(parseServerMessage(data).kind).toBe('invalid');
  });
});

describe('client messages', () => {
  it('writes host_key only when given', () => {
    expect(JSON.parse(encodeClientMessage({ type: 'join', room: 'r', name: 'n' }))).toEqual({ type: 'join', room: 'r', name: 'n' });
    expect(JSON.parse(encodeClientMessage({ type: 'join', room: 'r', name: 'n', host_key: 'k' }))).toEqual({
      type: 'join',
      room: 'r',
      name: 'n',
      host_key: 'k',
    });
    expect(encodeClientMessage({ type: 'hello', v: 1 })).toBe('{"type":"hello","v":1}');
    expect(encodeClientMessage({ type: 'admit', participant: 'p' })).toBe('{"type":"admit","participant":"p"}');
    expect(encodeClientMessage({ type: 'subscribe_answer', sdp: 's', version: 2 })).toBe('{"type":"subscribe_answer","sdp":"s","version":2}');
    expect(encodeClientMessage({ type: 'subscribe_restart' })).toBe('{"type":"subscribe_restart"}');
  });

  it('writes host actions and the rejoin token as the protocol names them', () => {
    expect(JSON.parse(encodeClientMessage({ type: 'join', room: 'r', name: 'n', rejoin: 't' }))).toEqual({ type: 'join', room: 'r', name: 'n', rejoin: 't' });
    expect(encodeClientMessage({ type: 'remove', participant: 'p' })).toBe('{"type":"remove","participant":"p"}');
    expect(encodeClientMessage({ type: 'promote', participant: 'p' })).toBe('{"type":"promote","participant":"p"}');
    expect(encodeClientMessage({ type: 'mute', participant: 'p', kind: 'audio' })).toBe('{"type":"mute","participant":"p","kind":"audio"}');
    expect(encodeClientMessage({ type: 'lock', locked: true })).toBe('{"type":"lock","locked":true}');
    expect(encodeClientMessage({ type: 'end' })).toBe('{"type":"end"}');
  });

  it('writes the MLS messages as the protocol names them', () => {
    expect(encodeClientMessage({ type: 'mls_keypackage', keypackage: 'AAE', proof: 'p' })).toBe('{"type":"mls_keypackage","keypackage":"AAE","proof":"p"}');
    expect(JSON.parse(encodeClientMessage({ type: 'mls_commit', commit: 'c', welcome: 'w', add: ['a'], remove: ['r'] }))).toEqual({
      type: 'mls_commit',
      commit: 'c',
      welcome: 'w',
      add: ['a'],
      remove: ['r'],
    });
    expect(encodeClientMessage({ type: 'mls_app', msg: 'm' })).toBe('{"type":"mls_app","msg":"m"}');
  });
});
