/*
 * Shows the local MediaStream in a <video> that never plays sound.
 *
 * The stream is attached only while it has a track: a media element whose
 * source never yields metadata (an empty MediaStream, e.g. after the camera
 * was refused) holds back the document's load event in Chromium, which
 * automation waiting for "load" would see as a hang. Call again after every
 * change of the stream's tracks.
 */

export function showStream(video: HTMLVideoElement, stream: MediaStream): void {
  video.muted = true;
  video.defaultMuted = true;
  video.playsInline = true;
  video.autoplay = true;
  const want = stream.getTracks().length > 0 ? stream : null;
  if (video.srcObject === want) return;
  video.srcObject = want;
  // Autoplay of a muted video is allowed; a refusal only delays the picture.
  if (want) void video.play().catch(() => undefined);
}
