/*
 * gso_bench — kernel CPU per sent datagram: one datagram per sendmmsg
 * message (what the SFU does) against UDP GSO (UDP_SEGMENT), where one
 * message carries k equal-size datagrams to one destination.
 *
 *   make B=build build/bench/gso_bench && build/bench/gso_bench [runs]
 *
 * The sender thread is pinned to CPU 0 and sends 1,216-byte datagrams (a
 * 1,200-byte packet + GCM tag) over loopback to DESTS receiving sockets,
 * round robin as a fan-out does; a receiver thread pinned to CPU 1 drains
 * them with recvmmsg. Sender CPU is CLOCK_THREAD_CPUTIME_ID, which (as in
 * the benchmark) includes the loopback delivery the kernel runs in the
 * sender's context. Each mode sends BATCH datagrams per sendmmsg call.
 * Prints min / median / max µs per datagram over the runs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103   /* linux/udp.h */
#endif

enum {
	DGRAM = 1216,          /* 1,200-byte RTP packet + 16-byte GCM tag */
	BATCH = 64,            /* datagrams per sendmmsg call */
	DESTS = 16,            /* receiving sockets (subscribers) */
	CALLS = 4000,          /* sendmmsg calls per run */
	DEFAULT_RUNS = 7,
	MAX_RUNS = 100,
	SOCK_BUF = 8 << 20,
};

static int rx[DESTS];
static struct sockaddr_in dst[DESTS];
static atomic_bool stop;
static atomic_ulong received;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *drain(void *arg)
{
	static uint8_t buf[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	int i, d, n;

	(void)arg;
	pin(1);
	while (!atomic_load(&stop)) {
		for (d = 0; d < DESTS; d++) {
			for (i = 0; i < BATCH; i++) {
				iov[i].iov_base = buf[i];
				iov[i].iov_len = sizeof(buf[i]);
				memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
				m[i].msg_hdr.msg_iov = &iov[i];
				m[i].msg_hdr.msg_iovlen = 1;
			}
			n = recvmmsg(rx[d], m, BATCH, MSG_DONTWAIT, NULL);
			if (n > 0)
				atomic_fetch_add(&received, (unsigned long)n);
		}
	}
	return NULL;
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One run: CALLS sendmmsg calls of BATCH datagrams, k per message (k = 1:
 * no GSO). Returns µs of sender CPU per datagram, or -1. */
static double run(int fd, int k)
{
	static uint8_t pkt[BATCH][DGRAM];
	static char cbuf[BATCH][CMSG_SPACE(sizeof(uint16_t))];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	int nmsg = BATCH / k, c, i, off, n;
	double t0;

	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = pkt[i];
		iov[i].iov_len = DGRAM;
	}
	t0 = cpu_us();
	for (c = 0; c < CALLS; c++) {
		for (i = 0; i < nmsg; i++) {
			struct msghdr *h = &m[i].msg_hdr;

			memset(h, 0, sizeof(*h));
			h->msg_name = &dst[(c * nmsg + i) % DESTS];
			h->msg_namelen = sizeof(dst[0]);
			h->msg_iov = &iov[i * k];
			h->msg_iovlen = (size_t)k;
			if (k > 1) {
				struct cmsghdr *cm;
				uint16_t seg = DGRAM;

				h->msg_control = cbuf[i];
				h->msg_controllen = sizeof(cbuf[i]);
				cm = CMSG_FIRSTHDR(h);
				cm->cmsg_level = SOL_UDP;
				cm->cmsg_type = UDP_SEGMENT;
				cm->cmsg_len = CMSG_LEN(sizeof(seg));
				memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			}
		}
		for (off = 0; off < nmsg; off += n) {
			n = sendmmsg(fd, m + off, (unsigned)(nmsg - off), 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == ENOBUFS) {
					n = 0;
					sched_yield();
					continue;
				}
				perror("sendmmsg");
				return -1;
			}
		}
	}
	return (cpu_us() - t0) / ((double)CALLS * BATCH);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const int ks[] = { 1, 2, 4, 8 };
	enum { NK = sizeof(ks) / sizeof(ks[0]) };
	static double t[NK][MAX_RUNS];
	int runs = argc > 1 ? atoi(argv[1]) : DEFAULT_RUNS;
	int fd, d, r, i, buf = SOCK_BUF;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	pthread_t th;

	if (runs < 1 || runs > MAX_RUNS)
		return 2;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (d = 0; d < DESTS; d++) {
		rx[d] = socket(AF_INET, SOCK_DGRAM, 0);
		setsockopt(rx[d], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		a.sin_port = 0;
		if (rx[d] < 0 || bind(rx[d], (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(rx[d], (struct sockaddr *)&dst[d], &al) != 0) {
			perror("receiver");
			return 1;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (fd < 0 || pthread_create(&th, NULL, drain, NULL) != 0)
		return 1;
	pin(0);
	run(fd, 1);   /* warm up */
	for (r = 0; r < runs; r++)
		for (i = 0; i < NK; i++)
			if ((t[i][r] = run(fd, ks[i])) < 0)
				return 1;
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	printf("µs of sender CPU per %d-byte datagram over loopback, %d runs of %d x %d "
	       "(min / median / max); %lu received\n", DGRAM, runs, CALLS, BATCH,
	       atomic_load(&received));
	for (i = 0; i < NK; i++) {
		qsort(t[i], (size_t)runs, sizeof(double), cmp);
		printf("  %s%d datagram%s per message  %.3f / %.3f / %.3f\n",
		       ks[i] == 1 ? "sendmmsg, " : "GSO,      ", ks[i],
		       ks[i] == 1 ? " " : "s", t[i][0], t[i][runs / 2], t[i][runs - 1]);
	}
	return 0;
}
