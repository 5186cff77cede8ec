/*
 * English messages: the reference catalog. Every other language must have
 * exactly these keys (de.ts is typed as Catalog, so a missing or extra key is
 * a compile error). Placeholders are written {name}.
 */
export const en = {
  'app.name': 'conclave',
  'app.tagline': 'Confidential video meetings, end-to-end encrypted',
  'lang.label': 'Language',
  'lang.en': 'English',
  'lang.de': 'Deutsch',

  'landing.title': 'Start a confidential meeting',
  'landing.intro':
    'Every meeting is end-to-end encrypted. The server forwards audio and video but cannot see or hear them, and it never learns the invite secret of a meeting.',
  'landing.create': 'Create meeting',
  'landing.creating': 'Creating the meeting…',
  'landing.created': 'Your meeting is ready.',
  'landing.guest.label': 'Invitation link',
  'landing.guest.help': 'Send this link to the people you invite. Anyone who has it can enter the meeting, so share it only with them.',
  'landing.host.label': 'Your host link',
  'landing.host.help': 'This link makes you a host. Do not share it; keep it to open the meeting yourself.',
  'landing.secret.help':
    'The part of each link after “#” is the invite secret. It was made in this browser and is never sent to the server, so nobody can recreate these links: keep them safe.',
  'landing.copy.guest': 'Copy invitation link',
  'landing.copy.host': 'Copy host link',
  'landing.copied': 'Copied to the clipboard.',
  'landing.copyFailed': 'Could not copy. Select the link and copy it yourself.',
  'landing.open': 'Open the meeting as host',
  'landing.error.rateLimited': 'Too many meetings were created from your address. Wait a minute and try again.',
  'landing.error.network': 'The server could not be reached. Check your connection and try again.',
  'landing.error.server': 'The server could not create the meeting (status {status}). Try again later.',
  'landing.error.badResponse': 'The server sent an answer this page does not understand. Reload the page and try again.',

  'link.bad.title': 'This meeting link does not work',
  'link.bad.room': 'The meeting ID in the address is not valid. Check that you copied the whole link.',
  'link.bad.missingInvite': 'The link is missing its invite secret, the part after “#”. Ask the person who invited you to send the whole link again.',
  'link.bad.invite': 'The invite secret in the link is damaged. Check that you copied the whole link.',
  'link.bad.hostKey': 'The host part of the link is damaged. Check that you copied the whole link.',
  'nav.home': 'Go to the start page',
  'notFound.title': 'Page not found',
  'notFound.text': 'There is nothing at this address.',

  'prejoin.title': 'Join the meeting',
  'prejoin.asHost': 'You are joining as a host.',
  'prejoin.name.label': 'Your name',
  'prejoin.name.help': 'Shown to the other participants.',
  'prejoin.name.missing': 'Enter your name to join.',
  'prejoin.camera.use': 'Use camera',
  'prejoin.mic.use': 'Use microphone',
  'prejoin.camera.device': 'Camera',
  'prejoin.mic.device': 'Microphone',
  'prejoin.device.camera': 'Camera {n}',
  'prejoin.device.mic': 'Microphone {n}',
  'prejoin.preview': 'Camera preview',
  'prejoin.cameraOff': 'Camera is off',
  'prejoin.join': 'Join',
  'prejoin.joining': 'Joining…',

  'media.denied': 'Access to the camera and microphone was refused. You can join without them, or allow access in the browser’s site settings and reload the page.',
  'media.cameraDenied': 'Access to the camera was refused. You can join without it.',
  'media.micDenied': 'Access to the microphone was refused. You can join without it.',
  'media.noCamera': 'No camera was found. You can join without one.',
  'media.noMic': 'No microphone was found. You can join without one.',
  'media.cameraFailed': 'The camera could not be started; another program may be using it.',
  'media.micFailed': 'The microphone could not be started; another program may be using it.',
  'media.unsupported': 'This browser does not allow camera and microphone access on this page. You can join without them.',

  'conn.connecting': 'Connecting…',
  'conn.lost.title': 'The connection was lost',
  'conn.lost.text': 'The connection to the server was interrupted.',
  'conn.retry': 'Try again',
  'join.failed.title': 'Could not join the meeting',
  'conn.protocol': 'The server speaks a different protocol version. Reload the page.',
  'error.server': 'The server refused the request ({code}).',
  'error.rateLimited': 'Too many attempts. Wait a moment and try again.',

  'lobby.title': 'Waiting for a host to let you in',
  'lobby.text': 'The hosts can see that you are waiting. This page changes by itself as soon as you are let in.',
  'lobby.leave': 'Leave',

  'meeting.title': 'Meeting',
  'meeting.you': '{name} (you)',
  'meeting.host': 'Host',
  'meeting.grid': 'Participants',
  'meeting.controls': 'Meeting controls',
  'meeting.mic': 'Microphone',
  'meeting.camera': 'Camera',
  'meeting.leave': 'Leave',
  'meeting.leave.label': 'Leave the meeting',
  'meeting.on': 'on',
  'meeting.off': 'off',
  'meeting.cameraOff': 'Camera off',
  'meeting.mediaPending': 'Only your own picture is shown for now: this version does not yet connect audio and video between participants.',

  'left.title': 'You left the meeting',
  'left.rejoin': 'Join again',
  'denied.title': 'You were not let in',
  'denied.text': 'A host declined your request to join this meeting.',
  'ended.title': 'The meeting has ended',
  'ended.text': 'A host ended the meeting for everyone.',
} as const;

export type MessageKey = keyof typeof en;

/** A complete catalog: every English key, each with a string. */
export type Catalog = { readonly [K in MessageKey]: string };
