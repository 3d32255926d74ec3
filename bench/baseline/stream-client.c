// Stream load generator in C for the throughput benchmark: CONNS connections each write
// CHUNK-byte pieces whenever the socket can take them and read back whatever is echoed.
// A Node generator saturates its own core before a fast server does, and then the figure
// measures the generator; this one leaves the server as the bottleneck.
//   gcc -O2 -o stream-client stream-client.c
//   ./stream-client HOST PORT CONNS WARMUP SECONDS CHUNK
// Prints "start" and "end" lines around the measured window (the benchmark reads the
// server's CPU at them), then one JSON line with the bytes echoed in the window.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: stream-client HOST PORT CONNS WARMUP SECONDS CHUNK\n");
    return 2;
  }
  const int conns = atoi(argv[3]);
  const double warmup = atof(argv[4]), seconds = atof(argv[5]);
  const size_t chunk = (size_t)atol(argv[6]);
  char *out = malloc(chunk), *in = malloc(256 * 1024);
  memset(out, 'a', chunk);
  size_t *offset = calloc((size_t)conns, sizeof *offset); // how much of the current piece is written
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
    fprintf(stderr, "stream-client: bad IPv4 address %s\n", argv[1]);
    return 2;
  }
  int ep = epoll_create1(0);
  for (int i = 0; i < conns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
      perror("stream-client: connect");
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) return 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = ((uint64_t)i << 32) | (uint32_t)fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  unsigned long long echoed = 0, before = 0;
  double t0 = now(), start = t0 + warmup, end = start + seconds;
  int started = 0, errors = 0;
  struct epoll_event evs[64];
  for (;;) {
    double t = now();
    if (!started && t >= start) {
      before = echoed;
      start = t;
      end = t + seconds;
      started = 1;
      printf("start\n");
      fflush(stdout);
    }
    if (started && t >= end) break;
    int n = epoll_wait(ep, evs, 64, 10);
    for (int k = 0; k < n; k++) {
      int fd = (int)(uint32_t)evs[k].data.u64, i = (int)(evs[k].data.u64 >> 32);
      if (evs[k].events & (EPOLLERR | EPOLLHUP)) {
        errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        continue;
      }
      if (evs[k].events & EPOLLIN) {
        ssize_t r;
        while ((r = read(fd, in, 256 * 1024)) > 0) echoed += (unsigned long long)r;
        if (r == 0) {
          errors++;
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
          continue;
        }
      }
      if (evs[k].events & EPOLLOUT) {
        ssize_t w;
        while ((w = write(fd, out + offset[i], chunk - offset[i])) > 0) offset[i] = (offset[i] + (size_t)w) % chunk;
      }
    }
  }
  double elapsed = now() - start;
  printf("end\n");
  unsigned long long bytes = echoed - before;
  printf("{\"mode\":\"stream\",\"errors\":%d,\"bytes\":%llu,\"mib_per_s\":%.3f,\"seconds\":%.3f}\n", errors, bytes,
         (double)bytes / elapsed / 1048576.0, elapsed);
  return 0;
}
