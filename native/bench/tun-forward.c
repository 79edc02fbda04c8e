// The baseline for bench/tun.ts: the least a userspace forwarder between two TUN
// devices can do. Opens both (IFF_TUN | IFF_NO_PI, non-blocking), poll()s them, and
// copies each packet read from one to the other, up to 64 per wakeup like the addon.
// Prints "ready" once both are open; on SIGUSR1 a JSON line of counts (packets each
// way, failed writes, readable wakeups) and CPU time (user, system),
// on SIGTERM/SIGINT the same and exits.
// Build: cc -O2 -o tun-forward tun-forward.c   Run (root): tun-forward NAME_A NAME_B
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t stop, report;

static void on_signal(int sig) {
  if (sig == SIGUSR1)
    report = 1;
  else
    stop = 1;
}

static int open_tun(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    perror("open /dev/net/tun");
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "TUNSETIFF %s: %s\n", name, strerror(errno));
    return -1;
  }
  return fd;
}

static void print_counts(const unsigned long long fwd[2], unsigned long long drops,
                         unsigned long long wakeups) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  unsigned long long user_ns = (unsigned long long)ru.ru_utime.tv_sec * 1000000000ull +
                               (unsigned long long)ru.ru_utime.tv_usec * 1000ull;
  unsigned long long sys_ns = (unsigned long long)ru.ru_stime.tv_sec * 1000000000ull +
                              (unsigned long long)ru.ru_stime.tv_usec * 1000ull;
  printf("{\"fwd\":[%llu,%llu],\"drops\":%llu,\"userNs\":%llu,\"sysNs\":%llu,\"wakeups\":%llu}\n",
         fwd[0], fwd[1], drops, user_ns, sys_ns, wakeups);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s TUN_A TUN_B\n", argv[0]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR and we look at the flags
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  struct pollfd fds[2];
  for (int i = 0; i < 2; i++) {
    fds[i].fd = open_tun(argv[1 + i]);
    if (fds[i].fd < 0) return 1;
    fds[i].events = POLLIN;
  }
  printf("ready\n");
  fflush(stdout);

  static unsigned char buf[65536];
  unsigned long long fwd[2] = {0, 0}, drops = 0, wakeups = 0;
  while (!stop) {
    if (report) {
      report = 0;
      print_counts(fwd, drops, wakeups);
    }
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("poll");
      return 1;
    }
    for (int i = 0; i < 2; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      wakeups++;
      for (int k = 0; k < BATCH; k++) {
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n < 0) break;  // EAGAIN: drained
        if (write(fds[1 - i].fd, buf, (size_t)n) < 0)
          drops++;
        else
          fwd[i]++;
      }
    }
  }
  print_counts(fwd, drops, wakeups);
  return 0;
}
