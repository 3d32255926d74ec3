// Minimal epoll echo server in C: the physical reference switchboard is compared to.
// Single thread, level-triggered epoll, one 64 KiB buffer reused for every read; a
// write the kernel takes only partly is finished (poll for POLLOUT) before anything else
// (blocking briefly is acceptable for a reference that only serves the benchmark).
//   gcc -O2 -o epoll-echo epoll-echo.c && ./epoll-echo   (prints "listening addr=127.0.0.1:PORT" on stderr)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[64 * 1024];

static int write_all(int fd, const char *p, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { // the peer is slow to read: wait until it can take more
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        poll(&pf, 1, -1);
        continue;
      }
      return -1;
    }
    p += w;
    n -= w;
  }
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
    perror("listen");
    return 1;
  }
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  fprintf(stderr, "listening addr=127.0.0.1:%d\n", ntohs(a.sin_port));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c;
        while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0) {
        if (write_all(fd, buf, r) == 0) continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      } else if (r == 0) {
        shutdown(fd, SHUT_WR); // echo ends when the peer's does
      }
      close(fd);
    }
  }
}
