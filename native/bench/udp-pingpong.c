// UDP request/response load for bench/tun.ts, run inside network namespaces.
//   server PORT: echo every datagram back to its sender (recvmmsg / sendmmsg, 64 at a time).
//   client DST PORT SECONDS WARMUP_MS WINDOW SIZE: keep WINDOW requests of SIZE bytes in
//     flight to DST:PORT (sendmmsg bursts), count replies (recvmmsg). After WARMUP_MS it
//     prints "go"; after SECONDS more, one JSON line: replies, sent, seconds, stalls (times
//     nothing came back for 20 ms and the window was refilled: a loss, or a forwarder that
//     was not scheduled for that long on a busy machine).
// Build: cc -O2 -o udp-pingpong udp-pingpong.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXSIZE 2048

static unsigned char bufs[BATCH][MAXSIZE];
static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_in addrs[BATCH];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void setup_msgs(size_t len, int with_addr) {
  for (int i = 0; i < BATCH; i++) {
    iovs[i].iov_base = bufs[i];
    iovs[i].iov_len = len;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (with_addr) {
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
    }
  }
}

static int server(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("server bind");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    setup_msgs(MAXSIZE, 1);
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("recvmmsg");
      return 1;
    }
    for (int i = 0; i < n; i++) iovs[i].iov_len = msgs[i].msg_len;
    for (int off = 0; off < n;) {
      int s = sendmmsg(fd, msgs + off, n - off, 0);
      if (s <= 0) break;  // a full queue: the rest are lost, the client recovers
      off += s;
    }
  }
}

static int client(const char *dst, int port, double seconds, double warmup_ms, int window,
                  int size) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (fd < 0 || inet_pton(AF_INET, dst, &a.sin_addr) != 1 ||
      connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("client connect");
    return 1;
  }
  if (size < 1 || size > MAXSIZE || window < 1) {
    fprintf(stderr, "bad size or window\n");
    return 2;
  }
  unsigned long long replies = 0, sent = 0, stalls = 0;
  long inflight = 0;
  double start = now_s(), go = start + warmup_ms / 1000, end = go + seconds;
  int measuring = 0;
  double elapsed = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  for (;;) {
    double t = now_s();
    if (!measuring && t >= go) {
      measuring = 1;
      replies = sent = stalls = 0;
      printf("go\n");
      fflush(stdout);
    }
    if (measuring && t >= end) {
      elapsed = t - go;
      break;
    }
    while (inflight < window) {
      int k = window - inflight < BATCH ? (int)(window - inflight) : BATCH;
      setup_msgs((size_t)size, 0);
      int s = sendmmsg(fd, msgs, k, 0);
      if (s <= 0) break;
      inflight += s;
      sent += s;
    }
    int r = poll(&p, 1, 20);
    if (r == 0) {
      // Nothing for 20 ms: what is in flight is lost; refill the window.
      inflight = 0;
      stalls++;
      continue;
    }
    for (;;) {
      setup_msgs(MAXSIZE, 0);
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0) break;
      replies += n;
      inflight -= n;
      if (inflight < 0) inflight = 0;
    }
  }
  printf("{\"replies\":%llu,\"sent\":%llu,\"seconds\":%.6f,\"stalls\":%llu}\n", replies, sent,
         elapsed, stalls);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]));
  if (argc == 8 && strcmp(argv[1], "client") == 0)
    return client(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]), atoi(argv[6]),
                  atoi(argv[7]));
  fprintf(stderr,
          "usage: %s server PORT | client DST PORT SECONDS WARMUP_MS WINDOW SIZE\n", argv[0]);
  return 2;
}
