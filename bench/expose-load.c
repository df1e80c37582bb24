/* Server and client of bench/expose.sh.  The same static binary runs as
 * the server inside the agent container and as the client on the host.
 *
 *   expose-load serve PORT
 *       Listen on 127.0.0.1:PORT and serve one connection at a time.  The
 *       first byte of a connection selects the request:
 *         'e'            reply one byte and close (connection setup)
 *         'd' + 8 bytes  send that many bytes (little endian count), close
 *         'u'            read to EOF, reply the 8-byte count, close
 *   expose-load setup PORT COUNT
 *       Open COUNT connections one after another and time each from the
 *       start of connect() to the reply byte.
 *   expose-load download PORT BYTES
 *   expose-load upload PORT BYTES
 *       Move BYTES through one connection and time it until EOF (download)
 *       or until the server's count arrives (upload).
 *
 * Client commands print one line of key=value pairs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static void die(const char *what)
{
  perror(what);
  exit(1);
}

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *data, size_t length)
{
  const char *p = data;

  while (length > 0) {
    ssize_t written = write(fd, p, length);

    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return -1;
    p += written;
    length -= (size_t)written;
  }
  return 0;
}

static int read_full(int fd, void *data, size_t length)
{
  char *p = data;

  while (length > 0) {
    ssize_t got = read(fd, p, length);

    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return -1;
    p += got;
    length -= (size_t)got;
  }
  return 0;
}

static void serve_one(int fd, char *buf)
{
  unsigned char request;
  uint64_t count = 0;

  if (read_full(fd, &request, 1) < 0)
    return;
  if (request == 'e') {
    write_all(fd, "e", 1);
    return;
  }
  if (request == 'd') {
    if (read_full(fd, &count, sizeof(count)) < 0)
      return;
    while (count > 0) {
      size_t n = count < CHUNK ? (size_t)count : CHUNK;

      if (write_all(fd, buf, n) < 0)
        return;
      count -= n;
    }
    return;
  }
  if (request == 'u') {
    for (;;) {
      ssize_t got = read(fd, buf, CHUNK);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      count += (uint64_t)got;
    }
    write_all(fd, &count, sizeof(count));
  }
}

static int serve(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  char *buf = calloc(1, CHUNK);
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    die("bind");
  if (listen(fd, 128) < 0)
    die("listen");
  for (;;) {
    int client = accept(fd, NULL, NULL);

    if (client < 0) {
      if (errno == EINTR)
        continue;
      die("accept");
    }
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    serve_one(client, buf);
    close(client);
  }
}

static int connect_port(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static int compare(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static void setup(int port, int count)
{
  double *ms = calloc((size_t)count, sizeof(*ms));
  double sum = 0;
  char reply;

  for (int i = 0; i < count; i++) {
    double start = now();
    int fd = connect_port(port);

    if (write_all(fd, "e", 1) < 0 || read_full(fd, &reply, 1) < 0)
      die("setup round trip");
    ms[i] = (now() - start) * 1000;
    sum += ms[i];
    close(fd);
  }
  qsort(ms, (size_t)count, sizeof(*ms), compare);
  printf("connections=%d p50_ms=%.3f p90_ms=%.3f max_ms=%.3f mean_ms=%.3f\n",
         count, ms[count / 2], ms[count * 9 / 10], ms[count - 1], sum / count);
  free(ms);
}

static void download(int port, uint64_t bytes)
{
  char *buf = malloc(CHUNK);
  uint64_t got = 0;
  double start = now(), seconds;
  int fd = connect_port(port);

  if (write_all(fd, "d", 1) < 0 || write_all(fd, &bytes, sizeof(bytes)) < 0)
    die("request");
  for (;;) {
    ssize_t n = read(fd, buf, CHUNK);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (uint64_t)n;
  }
  seconds = now() - start;
  close(fd);
  if (got != bytes) {
    fprintf(stderr, "download: got %llu of %llu bytes\n",
            (unsigned long long)got, (unsigned long long)bytes);
    exit(1);
  }
  printf("bytes=%llu seconds=%.3f MiB_per_s=%.1f\n", (unsigned long long)bytes,
         seconds, (double)bytes / seconds / 1048576);
  free(buf);
}

static void upload(int port, uint64_t bytes)
{
  char *buf = calloc(1, CHUNK);
  uint64_t sent = 0, counted = 0;
  double start = now(), seconds;
  int fd = connect_port(port);

  if (write_all(fd, "u", 1) < 0)
    die("request");
  while (sent < bytes) {
    size_t n = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;

    if (write_all(fd, buf, n) < 0)
      die("write");
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  if (read_full(fd, &counted, sizeof(counted)) < 0 || counted != bytes) {
    fprintf(stderr, "upload: the server counted %llu of %llu bytes\n",
            (unsigned long long)counted, (unsigned long long)bytes);
    exit(1);
  }
  seconds = now() - start;
  close(fd);
  printf("bytes=%llu seconds=%.3f MiB_per_s=%.1f\n", (unsigned long long)bytes,
         seconds, (double)bytes / seconds / 1048576);
  free(buf);
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "serve") == 0)
    return serve(atoi(argv[2]));
  if (argc == 4 && strcmp(argv[1], "setup") == 0) {
    setup(atoi(argv[2]), atoi(argv[3]));
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "download") == 0) {
    download(atoi(argv[2]), strtoull(argv[3], NULL, 10));
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "upload") == 0) {
    upload(atoi(argv[2]), strtoull(argv[3], NULL, 10));
    return 0;
  }
  fprintf(stderr, "usage: expose-load serve PORT | setup PORT COUNT | "
                  "download PORT BYTES | upload PORT BYTES\n");
  return 2;
}
