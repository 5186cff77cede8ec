#!/usr/bin/env node
// Sorts a profile of the server (bench/run.mjs with BENCH_PERF=1, or any
// `perf record -g -p PID`) into where its CPU time goes, as a Markdown
// table: user space by library, then the kernel by system call and the
// parts of the send path that matter for forwarding.
//
//   node bench/perf-summary.mjs build/bench/perf-conclave-fanout-640-1.data
//
// Shares are of all the profile's samples (every thread of the server).
// Call-graph shares ("children") overlap: a row and the rows indented under
// it are parts of the same time.

import { execFileSync } from 'node:child_process';

const file = process.argv[2];
if (!file) {
	console.error('usage: node bench/perf-summary.mjs PERF.data');
	process.exit(2);
}

function report(args) {
	return execFileSync('perf', ['report', '-i', file, '--stdio', '-g', 'none', ...args],
		{ encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

// self time per shared object
const dso = new Map();
for (const line of report(['--no-children', '--sort', 'dso']).split('\n')) {
	const m = /^\s+([\d.]+)%\s+(\S+)/.exec(line);
	if (m) dso.set(m[2], Number(m[1]));
}
// time including callees, per symbol
const sym = new Map();
for (const line of report(['--children', '--sort', 'sym']).split('\n')) {
	const m = /^\s+([\d.]+)%\s+([\d.]+)%\s+\[.\]\s+(\S+)/.exec(line);
	if (m && !sym.has(m[3])) sym.set(m[3], Number(m[1]));
}
const total = [...dso.values()].reduce((a, b) => a + b, 0);
const pct = (x) => `${((100 * (x ?? 0)) / total).toFixed(1)} %`;
const s = (name) => sym.get(name) ?? 0;

const kernel = dso.get('[kernel.kallsyms]') ?? 0;
const user = [...dso.entries()].filter(([k]) => k !== '[kernel.kallsyms]').sort((a, b) => b[1] - a[1]);
const rows = [
	['user space', total - kernel],
	...user.slice(0, 4).map(([k, v]) => [`  ${k}`, v]),
	['kernel', kernel],
	['  sendmmsg', s('__sys_sendmmsg')],
	['    UDP/IP send (udp_sendmsg)', s('udp_sendmsg')],
	['      skb allocation and copy (ip_make_skb)', s('ip_make_skb')],
	['      route lookup (ip_route_output_flow)', s('ip_route_output_flow')],
	['      device (veth_xmit)', s('veth_xmit')],
	['      handing to the receiver\'s core (RPS IPI)', s('net_rps_send_ipi')],
	['    freeing sent skbs back on this core (skb_defer_free_flush)', s('skb_defer_free_flush')],
	['  recvmmsg', s('__sys_recvmmsg') || s('__x64_sys_recvmmsg')],
	['  epoll_wait (media worker)', s('__x64_sys_epoll_wait')],
	['  poll (signaling thread, libwebsockets)', s('__x64_sys_poll')],
	['  page faults', s('asm_exc_page_fault')],
	['  interrupts from the other core (IPI, then the receive softirq)', s('asm_sysvec_call_function_single')],
];
console.log(`| where (${file.replace(/^.*\//, '')}) | share of the server's CPU |`);
console.log('|---|---|');
// indentation becomes "… " per level, as "of which"
for (const [k, v] of rows) console.log(`| ${k.replace(/^( +)/, (sp) => '… '.repeat(sp.length / 2))} | ${pct(v)} |`);
