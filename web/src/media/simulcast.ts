/*
 * Simulcast publishing of the camera (docs/protocol.md, "Simulcast, views
 * and screen share").
 *
 * The camera goes out as three encodings of one track, lowest first (the
 * server takes the a=simulcast order as the quality order): a quarter, a
 * half and the full resolution of the 1280×720 capture. The bitrate caps
 * are the usual ones for VP8 at those sizes (320×180 ≈ 150 kbit/s,
 * 640×360 ≈ 500 kbit/s, 1280×720 ≈ 1.5 Mbit/s), as the contract fixes them.
 *
 * The server tells a publisher which encodings anyone needs now (`layers`);
 * the others are switched off with setParameters, so the browser does not
 * spend CPU and uplink on video nobody watches. All off pauses the camera's
 * sending entirely. This module computes the new parameters; the transport
 * applies them on its queue of sender operations.
 *
 * The screen share is one encoding (no sendEncodings) and audio is never
 * simulcast.
 */

/** The camera's encodings, lowest first (the contract's values). */
export const CAMERA_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** What the camera is asked for: the full layer is 1280×720, as the contract says. */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };

/** Copies for addTransceiver (the browser may keep what it is given). */
export function cameraEncodings(): RTCRtpEncodingParameters[] {
  return CAMERA_ENCODINGS.map((e) => ({ ...e }));
}

/**
 * The sender parameters with each encoding switched on or off as `active`
 * says (in sendEncodings order). Returns null if nothing changes, or if
 * the counts differ (a `layers` meant for another shape of track: ignored
 * rather than guessed at).
 */
export function withActiveLayers(params: RTCRtpSendParameters, active: readonly boolean[]): RTCRtpSendParameters | null {
  const encodings = params.encodings;
  if (encodings.length !== active.length || encodings.length < 2) return null;
  if (encodings.every((e, i) => (e.active ?? true) === active[i])) return null;
  return { ...params, encodings: encodings.map((e, i) => ({ ...e, active: active[i] ?? true })) };
}
