/*
 * sdp_samples — SDP as browsers write it, for the sdp unit tests.
 *
 * Hand-written to match what the browsers emit (attribute order, payload
 * type numbering, header extension ids, the quirks: Chromium's
 * "msid-semantic: WMS" with a space, Firefox's session-level fingerprint and
 * rtcp-fb before rtpmap). Identifiers, keys and addresses are made up. The
 * same texts are the seed corpus in fuzz/corpus/sdp/.
 */
#ifndef CONCLAVE_TEST_SDP_SAMPLES_H
#define CONCLAVE_TEST_SDP_SAMPLES_H

#define CRLF "\r\n"

#define FP_CHROME                                                            \
	"5E:0A:71:C2:9B:3D:44:F8:1E:67:A0:B5:2C:D9:83:10:"                    \
	"F4:6B:9E:27:55:C8:0D:A3:BE:71:39:E2:4F:86:1A:CD"

/* Chromium 12x publish offer: sendonly audio, sendonly video with three
 * RID simulcast layers, and a data channel; non-trickle (candidates on the
 * first m-line). */
static const char sdp_chrome_offer[] =
	"v=0" CRLF
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1" CRLF
	"s=-" CRLF
	"t=0 0" CRLF
	"a=group:BUNDLE 0 1 2" CRLF
	"a=extmap-allow-mixed" CRLF
	"a=msid-semantic: WMS 3f1c7a52-8e0b-4d6a-9b5e-2c7d1e4f8a60" CRLF
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=rtcp:9 IN IP4 0.0.0.0" CRLF
	"a=candidate:1467250027 1 udp 2122260223 192.168.1.23 51243 typ host generation 0 network-id 1 network-cost 10" CRLF
	"a=candidate:3011435236 1 udp 2113937151 3c4d1a50-0b6f-4a4e-a1f2-9c3b0a5b7f1e.local 54400 typ host generation 0 network-cost 999" CRLF
	"a=candidate:435653019 1 tcp 1518280447 192.168.1.23 9 typ host tcptype active generation 0 network-id 1 network-cost 10" CRLF
	"a=candidate:842163049 1 udp 1686052607 203.0.113.77 51243 typ srflx raddr 192.168.1.23 rport 51243 generation 0 network-id 1 network-cost 10" CRLF
	"a=ice-ufrag:Xq3b" CRLF
	"a=ice-pwd:8vKq0mYk3tQ9rLw2dZ5nPj1s" CRLF
	"a=ice-options:trickle" CRLF
	"a=fingerprint:sha-256 " FP_CHROME CRLF
	"a=setup:actpass" CRLF
	"a=mid:0" CRLF
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF
	"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=sendonly" CRLF
	"a=msid:3f1c7a52-8e0b-4d6a-9b5e-2c7d1e4f8a60 9a0e4b7c-1d2f-4e3a-8b6c-5d7e9f0a1b2c" CRLF
	"a=rtcp-mux" CRLF
	"a=rtcp-rsize" CRLF
	"a=rtpmap:111 opus/48000/2" CRLF
	"a=rtcp-fb:111 transport-cc" CRLF
	"a=fmtp:111 minptime=10;useinbandfec=1" CRLF
	"a=rtpmap:63 red/48000/2" CRLF
	"a=fmtp:63 111/111" CRLF
	"a=rtpmap:9 G722/8000" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF
	"a=rtpmap:8 PCMA/8000" CRLF
	"a=rtpmap:13 CN/8000" CRLF
	"a=rtpmap:110 telephone-event/48000" CRLF
	"a=rtpmap:126 telephone-event/8000" CRLF
	"a=ssrc:1744185830 cname:Tx3tG4nXmH1vZ8kQ" CRLF
	"a=ssrc:1744185830 msid:3f1c7a52-8e0b-4d6a-9b5e-2c7d1e4f8a60 9a0e4b7c-1d2f-4e3a-8b6c-5d7e9f0a1b2c" CRLF
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101 112 113 116 117 118" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=rtcp:9 IN IP4 0.0.0.0" CRLF
	"a=ice-ufrag:Xq3b" CRLF
	"a=ice-pwd:8vKq0mYk3tQ9rLw2dZ5nPj1s" CRLF
	"a=ice-options:trickle" CRLF
	"a=fingerprint:sha-256 " FP_CHROME CRLF
	"a=setup:actpass" CRLF
	"a=mid:1" CRLF
	"a=extmap:14 urn:ietf:params:rtp-hdrext:toffset" CRLF
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF
	"a=extmap:13 urn:3gpp:video-orientation" CRLF
	"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF
	"a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" CRLF
	"a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type" CRLF
	"a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing" CRLF
	"a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space" CRLF
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" CRLF
	"a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id" CRLF
	"a=extmap:9 https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension" CRLF
	"a=sendonly" CRLF
	"a=msid:3f1c7a52-8e0b-4d6a-9b5e-2c7d1e4f8a60 6b8d2f1e-7c3a-4b9d-a0e5-1f2c3d4e5f60" CRLF
	"a=rtcp-mux" CRLF
	"a=rtcp-rsize" CRLF
	"a=rtpmap:96 VP8/90000" CRLF
	"a=rtcp-fb:96 goog-remb" CRLF
	"a=rtcp-fb:96 transport-cc" CRLF
	"a=rtcp-fb:96 ccm fir" CRLF
	"a=rtcp-fb:96 nack" CRLF
	"a=rtcp-fb:96 nack pli" CRLF
	"a=rtpmap:97 rtx/90000" CRLF
	"a=fmtp:97 apt=96" CRLF
	"a=rtpmap:102 H264/90000" CRLF
	"a=rtcp-fb:102 goog-remb" CRLF
	"a=rtcp-fb:102 transport-cc" CRLF
	"a=rtcp-fb:102 ccm fir" CRLF
	"a=rtcp-fb:102 nack" CRLF
	"a=rtcp-fb:102 nack pli" CRLF
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f" CRLF
	"a=rtpmap:103 rtx/90000" CRLF
	"a=fmtp:103 apt=102" CRLF
	"a=rtpmap:104 H264/90000" CRLF
	"a=rtcp-fb:104 goog-remb" CRLF
	"a=rtcp-fb:104 transport-cc" CRLF
	"a=rtcp-fb:104 ccm fir" CRLF
	"a=rtcp-fb:104 nack" CRLF
	"a=rtcp-fb:104 nack pli" CRLF
	"a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f" CRLF
	"a=rtpmap:105 rtx/90000" CRLF
	"a=fmtp:105 apt=104" CRLF
	"a=rtpmap:106 H264/90000" CRLF
	"a=rtcp-fb:106 goog-remb" CRLF
	"a=rtcp-fb:106 transport-cc" CRLF
	"a=rtcp-fb:106 ccm fir" CRLF
	"a=rtcp-fb:106 nack" CRLF
	"a=rtcp-fb:106 nack pli" CRLF
	"a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" CRLF
	"a=rtpmap:107 rtx/90000" CRLF
	"a=fmtp:107 apt=106" CRLF
	"a=rtpmap:108 H264/90000" CRLF
	"a=rtcp-fb:108 goog-remb" CRLF
	"a=rtcp-fb:108 transport-cc" CRLF
	"a=rtcp-fb:108 ccm fir" CRLF
	"a=rtcp-fb:108 nack" CRLF
	"a=rtcp-fb:108 nack pli" CRLF
	"a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f" CRLF
	"a=rtpmap:109 rtx/90000" CRLF
	"a=fmtp:109 apt=108" CRLF
	"a=rtpmap:127 H264/90000" CRLF
	"a=rtcp-fb:127 goog-remb" CRLF
	"a=rtcp-fb:127 transport-cc" CRLF
	"a=rtcp-fb:127 ccm fir" CRLF
	"a=rtcp-fb:127 nack" CRLF
	"a=rtcp-fb:127 nack pli" CRLF
	"a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f" CRLF
	"a=rtpmap:125 rtx/90000" CRLF
	"a=fmtp:125 apt=127" CRLF
	"a=rtpmap:39 H264/90000" CRLF
	"a=rtcp-fb:39 goog-remb" CRLF
	"a=rtcp-fb:39 transport-cc" CRLF
	"a=rtcp-fb:39 ccm fir" CRLF
	"a=rtcp-fb:39 nack" CRLF
	"a=rtcp-fb:39 nack pli" CRLF
	"a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f" CRLF
	"a=rtpmap:40 rtx/90000" CRLF
	"a=fmtp:40 apt=39" CRLF
	"a=rtpmap:45 AV1/90000" CRLF
	"a=rtcp-fb:45 goog-remb" CRLF
	"a=rtcp-fb:45 transport-cc" CRLF
	"a=rtcp-fb:45 ccm fir" CRLF
	"a=rtcp-fb:45 nack" CRLF
	"a=rtcp-fb:45 nack pli" CRLF
	"a=fmtp:45 level-idx=5;profile=0;tier=0" CRLF
	"a=rtpmap:46 rtx/90000" CRLF
	"a=fmtp:46 apt=45" CRLF
	"a=rtpmap:98 VP9/90000" CRLF
	"a=rtcp-fb:98 goog-remb" CRLF
	"a=rtcp-fb:98 transport-cc" CRLF
	"a=rtcp-fb:98 ccm fir" CRLF
	"a=rtcp-fb:98 nack" CRLF
	"a=rtcp-fb:98 nack pli" CRLF
	"a=fmtp:98 profile-id=0" CRLF
	"a=rtpmap:99 rtx/90000" CRLF
	"a=fmtp:99 apt=98" CRLF
	"a=rtpmap:100 VP9/90000" CRLF
	"a=rtcp-fb:100 goog-remb" CRLF
	"a=rtcp-fb:100 transport-cc" CRLF
	"a=rtcp-fb:100 ccm fir" CRLF
	"a=rtcp-fb:100 nack" CRLF
	"a=rtcp-fb:100 nack pli" CRLF
	"a=fmtp:100 profile-id=2" CRLF
	"a=rtpmap:101 rtx/90000" CRLF
	"a=fmtp:101 apt=100" CRLF
	"a=rtpmap:112 H264/90000" CRLF
	"a=rtcp-fb:112 goog-remb" CRLF
	"a=rtcp-fb:112 transport-cc" CRLF
	"a=rtcp-fb:112 ccm fir" CRLF
	"a=rtcp-fb:112 nack" CRLF
	"a=rtcp-fb:112 nack pli" CRLF
	"a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f" CRLF
	"a=rtpmap:113 rtx/90000" CRLF
	"a=fmtp:113 apt=112" CRLF
	"a=rtpmap:116 red/90000" CRLF
	"a=rtpmap:117 rtx/90000" CRLF
	"a=fmtp:117 apt=116" CRLF
	"a=rtpmap:118 ulpfec/90000" CRLF
	"a=rid:q send" CRLF
	"a=rid:h send" CRLF
	"a=rid:f send" CRLF
	"a=simulcast:send q;h;f" CRLF
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=ice-ufrag:Xq3b" CRLF
	"a=ice-pwd:8vKq0mYk3tQ9rLw2dZ5nPj1s" CRLF
	"a=ice-options:trickle" CRLF
	"a=fingerprint:sha-256 " FP_CHROME CRLF
	"a=setup:actpass" CRLF
	"a=mid:2" CRLF
	"a=sctp-port:5000" CRLF
	"a=max-message-size:262144" CRLF;

#define FP_FIREFOX                                                           \
	"A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:"                    \
	"01:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0"

/* Firefox 12x publish offer: fingerprint and ice-options at session level,
 * fmtp/rtcp-fb before rtpmap, a=ssrc with FID groups, simulcast with a
 * paused layer. */
static const char sdp_firefox_offer[] =
	"v=0" CRLF
	"o=mozilla...THIS_IS_SDPARTA-99.0 5132475950233547429 0 IN IP4 0.0.0.0" CRLF
	"s=-" CRLF
	"t=0 0" CRLF
	"a=fingerprint:sha-256 " FP_FIREFOX CRLF
	"a=group:BUNDLE 0 1" CRLF
	"a=ice-options:trickle" CRLF
	"a=msid-semantic:WMS *" CRLF
	"m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=sendonly" CRLF
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF
	"a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level" CRLF
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1" CRLF
	"a=fmtp:101 0-15" CRLF
	"a=ice-pwd:1f7b2c9e04d83a56b7e1c0f2a9d4b6e8" CRLF
	"a=ice-ufrag:6a0c3e1f" CRLF
	"a=mid:0" CRLF
	"a=msid:{5d2e8a41-7c3b-4f90-b1e6-0a9c2d7f4e13} {c0e1f2a3-b4c5-4d6e-8f70-8192a3b4c5d6}" CRLF
	"a=rtcp-mux" CRLF
	"a=rtpmap:109 opus/48000/2" CRLF
	"a=rtpmap:9 G722/8000/1" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF
	"a=rtpmap:8 PCMA/8000" CRLF
	"a=rtpmap:101 telephone-event/8000/1" CRLF
	"a=setup:actpass" CRLF
	"a=ssrc:2655508255 cname:{8a5c1d3e-2f4b-4a6c-9d0e-7b1f3a5c7e9d}" CRLF
	"m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=sendonly" CRLF
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF
	"a=extmap:5 urn:ietf:params:rtp-hdrext:toffset" CRLF
	"a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" CRLF
	"a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF
	"a=extmap:8 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" CRLF
	"a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id" CRLF
	"a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1" CRLF
	"a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1" CRLF
	"a=fmtp:120 max-fs=12288;max-fr=60" CRLF
	"a=fmtp:124 apt=120" CRLF
	"a=fmtp:121 max-fs=12288;max-fr=60" CRLF
	"a=fmtp:125 apt=121" CRLF
	"a=fmtp:127 apt=126" CRLF
	"a=fmtp:98 apt=97" CRLF
	"a=ice-pwd:1f7b2c9e04d83a56b7e1c0f2a9d4b6e8" CRLF
	"a=ice-ufrag:6a0c3e1f" CRLF
	"a=mid:1" CRLF
	"a=msid:{5d2e8a41-7c3b-4f90-b1e6-0a9c2d7f4e13} {d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6}" CRLF
	"a=rtcp-fb:120 nack" CRLF
	"a=rtcp-fb:120 nack pli" CRLF
	"a=rtcp-fb:120 ccm fir" CRLF
	"a=rtcp-fb:120 goog-remb" CRLF
	"a=rtcp-fb:120 transport-cc" CRLF
	"a=rtcp-fb:121 nack" CRLF
	"a=rtcp-fb:121 nack pli" CRLF
	"a=rtcp-fb:121 ccm fir" CRLF
	"a=rtcp-fb:121 goog-remb" CRLF
	"a=rtcp-fb:121 transport-cc" CRLF
	"a=rtcp-fb:126 nack" CRLF
	"a=rtcp-fb:126 nack pli" CRLF
	"a=rtcp-fb:126 ccm fir" CRLF
	"a=rtcp-fb:126 goog-remb" CRLF
	"a=rtcp-fb:126 transport-cc" CRLF
	"a=rtcp-fb:97 nack" CRLF
	"a=rtcp-fb:97 nack pli" CRLF
	"a=rtcp-fb:97 ccm fir" CRLF
	"a=rtcp-fb:97 goog-remb" CRLF
	"a=rtcp-fb:97 transport-cc" CRLF
	"a=rtcp-mux" CRLF
	"a=rtcp-rsize" CRLF
	"a=rtpmap:120 VP8/90000" CRLF
	"a=rtpmap:124 rtx/90000" CRLF
	"a=rtpmap:121 VP9/90000" CRLF
	"a=rtpmap:125 rtx/90000" CRLF
	"a=rtpmap:126 H264/90000" CRLF
	"a=rtpmap:127 rtx/90000" CRLF
	"a=rtpmap:97 H264/90000" CRLF
	"a=rtpmap:98 rtx/90000" CRLF
	"a=rid:h send max-width=1280;max-height=720" CRLF
	"a=rid:m send" CRLF
	"a=rid:l send" CRLF
	"a=setup:actpass" CRLF
	"a=simulcast:send h;m;~l" CRLF
	"a=ssrc:3151934187 cname:{8a5c1d3e-2f4b-4a6c-9d0e-7b1f3a5c7e9d}" CRLF
	"a=ssrc:1272637745 cname:{8a5c1d3e-2f4b-4a6c-9d0e-7b1f3a5c7e9d}" CRLF
	"a=ssrc-group:FID 3151934187 1272637745" CRLF;

/* Chromium's answer to a server subscribe offer (audio + video, sendonly
 * from the server): recvonly, setup:active, no a=ssrc. */
static const char sdp_chrome_answer[] =
	"v=0" CRLF
	"o=- 2210385735839129010 2 IN IP4 127.0.0.1" CRLF
	"s=-" CRLF
	"t=0 0" CRLF
	"a=group:BUNDLE 0 1" CRLF
	"a=extmap-allow-mixed" CRLF
	"a=msid-semantic: WMS" CRLF
	"m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=rtcp:9 IN IP4 0.0.0.0" CRLF
	"a=ice-ufrag:u7Rn" CRLF
	"a=ice-pwd:Jk2mV9xq4Lw7Pz1Nc8Rb5Ts0" CRLF
	"a=ice-options:trickle" CRLF
	"a=fingerprint:sha-256 " FP_CHROME CRLF
	"a=setup:active" CRLF
	"a=mid:0" CRLF
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF
	"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=recvonly" CRLF
	"a=rtcp-mux" CRLF
	"a=rtcp-rsize" CRLF
	"a=rtpmap:111 opus/48000/2" CRLF
	"a=rtcp-fb:111 transport-cc" CRLF
	"a=fmtp:111 minptime=10;useinbandfec=1" CRLF
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97" CRLF
	"c=IN IP4 0.0.0.0" CRLF
	"a=rtcp:9 IN IP4 0.0.0.0" CRLF
	"a=ice-ufrag:u7Rn" CRLF
	"a=ice-pwd:Jk2mV9xq4Lw7Pz1Nc8Rb5Ts0" CRLF
	"a=ice-options:trickle" CRLF
	"a=fingerprint:sha-256 " FP_CHROME CRLF
	"a=setup:active" CRLF
	"a=mid:1" CRLF
	"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF
	"a=recvonly" CRLF
	"a=rtcp-mux" CRLF
	"a=rtcp-rsize" CRLF
	"a=rtpmap:96 VP8/90000" CRLF
	"a=rtcp-fb:96 goog-remb" CRLF
	"a=rtcp-fb:96 transport-cc" CRLF
	"a=rtcp-fb:96 ccm fir" CRLF
	"a=rtcp-fb:96 nack" CRLF
	"a=rtcp-fb:96 nack pli" CRLF
	"a=rtpmap:97 rtx/90000" CRLF
	"a=fmtp:97 apt=96" CRLF;

/* Edge cases that are valid: LF line ends, session-level direction and
 * ICE, rtcp-fb wildcard, two-byte extmap id, simulcast alternatives with
 * both directions, a rejected m-line, an unknown media kind, trailing blank
 * line. */
static const char sdp_edge_valid[] =
	"v=0\n"
	"o=edge 1 1 IN IP6 ::1\n"
	"s=edge\n"
	"i=session info\n"
	"t=0 0\n"
	"a=ice-ufrag:abcd\n"
	"a=ice-pwd:abcdefghijklmnopqrstuv\n"
	"a=fingerprint:SHA-1 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33\n"
	"a=setup:active\n"
	"a=inactive\n"
	"a=group:LS a b\n"
	"a=group:BUNDLE a\n"
	"a=ice-lite\n"
	"a=end-of-candidates\n"
	"m=video 7000 UDP/TLS/RTP/SAVPF 96 97\n"
	"c=IN IP6 ::\n"
	"b=AS:2000\n"
	"a=mid:a\n"
	"a=extmap-allow-mixed\n"
	"a=extmap:200/sendonly urn:example:two-byte\n"
	"a=rtpmap:96 VP8/90000\n"
	"a=rtpmap:97 rtx/90000\n"
	"a=fmtp:97 apt=96\n"
	"a=rtcp-fb:* nack\n"
	"a=rtcp-fb:96 nack pli\n"
	"a=rtcp-fb:96 ccm tmmbr\n"
	"a=rtcp-fb:96 trr-int 100\n"
	"a=rid:1 send pt=96;max-fps=30\n"
	"a=rid:2 send\n"
	"a=rid:3 recv\n"
	"a=simulcast: recv 3 send 1,~2\n"
	"a=ssrc-group:SIM 1 2 3\n"
	"a=ssrc:1 cname:x\n"
	"a=ssrc:1 label:ignored\n"
	"a=ssrc:5 msid:stream\n"
	"a=msid:- track\n"
	"a=candidate:1 1 UDP 1 10.0.0.1 7000 typ relay raddr 0.0.0.0 rport 0\n"
	"a=candidate:2 2 tcp 2 ::1 9 typ prflx tcptype so\n"
	"a=unknown-attribute:with value\n"
	"m=audio 0 UDP/TLS/RTP/SAVPF 0\n"
	"a=mid:b\n"
	"m=text 9 RTP/AVP 98\n"
	"a=rtpmap:98 t140/1000\n"
	"a=sendonly\n"
	"\n";

#endif
