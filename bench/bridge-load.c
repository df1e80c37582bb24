/* Load generator and sink for bench/bridge.sh, in C so that its own cost
 * stays small next to the forwarders it measures.
 *
 *   bridge-load sink PORTFILE
 *       Listen on 127.0.0.1 (a free port, written to PORTFILE).  Each
 *       connection is read to EOF, then gets the byte count and a newline
 *       as the reply, and is closed.  Connections are served one at a time.
 *   bridge-load throughput PORT BYTES
 *       Send BYTES through one connection, half-close, wait for the count.
 *   bridge-load connections PORT COUNT
 *       Open COUNT connections one after another; each sends 16 bytes,
 *       half-closes and waits for the count.
 *
 * The client commands print "seconds=S rate=R unit=U". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

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

static void write_all(int fd, const char *data, size_t length)
{
  while (length > 0) {
    ssize_t written = write(fd, data, length);

    if (written < 0) {
      if (errno == EINTR)
        continue;
      die("write");
    }
    data += written;
    length -= (size_t)written;
  }
}

/* Reads the reply to EOF into `reply` (NUL-terminated). */
static void read_reply(int fd, char *reply, size_t size)
{
  size_t length = 0;

  for (;;) {
    ssize_t count = read(fd, reply + length, size - 1 - length);

    if (count < 0) {
      if (errno == EINTR)
        continue;
      die("read");
    }
    if (count == 0)
      break;
    length += (size_t)count;
    if (length == size - 1)
      break;
  }
  reply[length] = '\0';
}

static int connect_port(int port)
{
  struct sockaddr_in addr = {0};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    die("socket");
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    die("connect");
  return fd;
}

static void sink(const char *port_file)
{
  struct sockaddr_in addr = {0};
  socklen_t length = sizeof(addr);
  char temporary[4096];
  char *buffer = malloc(CHUNK);
  int one = 1;
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FILE *file;

  if (server < 0 || buffer == NULL)
    die("sink");
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(server, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(server, 1024) < 0 ||
      getsockname(server, (struct sockaddr *)&addr, &length) < 0)
    die("listen");

  snprintf(temporary, sizeof(temporary), "%s.tmp", port_file);
  file = fopen(temporary, "w");
  if (file == NULL)
    die(temporary);
  fprintf(file, "%d\n", ntohs(addr.sin_port));
  fclose(file);
  if (rename(temporary, port_file) < 0)
    die("rename");

  for (;;) {
    unsigned long long total = 0;
    char reply[32];
    int conn = accept4(server, NULL, NULL, SOCK_CLOEXEC);

    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      die("accept");
    }
    for (;;) {
      ssize_t count = read(conn, buffer, CHUNK);

      if (count < 0 && errno == EINTR)
        continue;
      if (count <= 0)
        break;
      total += (unsigned long long)count;
    }
    snprintf(reply, sizeof(reply), "%llu\n", total);
    write_all(conn, reply, strlen(reply));
    close(conn);
  }
}

static void throughput(int port, unsigned long long size)
{
  char *data = calloc(1, CHUNK);
  unsigned long long sent = 0;
  char reply[32];
  char expected[32];
  double start;
  double elapsed;
  int fd;

  if (data == NULL)
    die("calloc");
  start = now();
  fd = connect_port(port);
  while (sent < size) {
    size_t block = size - sent < CHUNK ? (size_t)(size - sent) : CHUNK;

    write_all(fd, data, block);
    sent += block;
  }
  shutdown(fd, SHUT_WR);
  read_reply(fd, reply, sizeof(reply));
  elapsed = now() - start;
  close(fd);

  snprintf(expected, sizeof(expected), "%llu\n", size);
  if (strcmp(reply, expected) != 0) {
    fprintf(stderr, "the sink received '%s', expected %llu bytes\n", reply,
            size);
    exit(1);
  }
  printf("seconds=%.3f rate=%.1f unit=MiB/s\n", elapsed,
         (double)size / elapsed / (1 << 20));
  free(data);
}

static void connections(int port, long count)
{
  static const char request[] = "0123456789abcdef";
  double start = now();
  double elapsed;
  long i;

  for (i = 0; i < count; i++) {
    char reply[32];
    int fd = connect_port(port);

    write_all(fd, request, sizeof(request) - 1);
    shutdown(fd, SHUT_WR);
    read_reply(fd, reply, sizeof(reply));
    close(fd);
    if (strcmp(reply, "16\n") != 0) {
      fprintf(stderr, "the sink replied '%s', expected 16\n", reply);
      exit(1);
    }
  }
  elapsed = now() - start;
  printf("seconds=%.3f rate=%.0f unit=connections/s\n", elapsed,
         (double)count / elapsed);
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "sink") == 0) {
    sink(argv[2]);
  } else if (argc == 4 && strcmp(argv[1], "throughput") == 0) {
    throughput(atoi(argv[2]), strtoull(argv[3], NULL, 10));
  } else if (argc == 4 && strcmp(argv[1], "connections") == 0) {
    connections(atoi(argv[2]), atol(argv[3]));
  } else {
    fprintf(stderr,
            "usage: %s sink PORTFILE | throughput PORT BYTES | "
            "connections PORT COUNT\n",
            argv[0]);
    return 2;
  }
  return 0;
}
