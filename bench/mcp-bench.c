/* Load generator for mcp-run over its Unix socket.
 *
 *   mcp-bench SOCKET check CLIENTS REQUESTS_PER_CLIENT EXECUTABLE
 *     Each client thread keeps one persistent connection and sends /check
 *     requests one after another; prints p50, p99 and the rate.
 *   mcp-bench SOCKET raw REQUESTS EXECUTABLE
 *     Sends /raw requests one after another (each on a new connection,
 *     because /raw closes it) and prints p50 and p99 of the round trip
 *     until the exit event arrived.
 *
 * Latencies are measured in the client with CLOCK_MONOTONIC and include
 * the client's own socket calls. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *socket_path;
static char request[4096];
static size_t request_len;

static double now_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int connect_socket(void)
{
  struct sockaddr_un addr;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    perror("connect");
    exit(1);
  }
  return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);

    if (n <= 0) {
      perror("write");
      exit(1);
    }
    data += n;
    len -= (size_t)n;
  }
}

/* Reads one response with a Content-Length body. */
static void read_response(int fd)
{
  char buf[8192];
  size_t have = 0;
  char *end;
  long body;

  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

    if (n <= 0) {
      fprintf(stderr, "error: connection closed mid-response\n");
      exit(1);
    }
    have += (size_t)n;
    buf[have] = '\0';
    end = strstr(buf, "\r\n\r\n");
    if (end == NULL)
      continue;
    body = strtol(strcasestr(buf, "Content-Length:") + 15, NULL, 10);
    if ((size_t)(end + 4 - buf) + (size_t)body <= have)
      return;
  }
}

struct client {
  pthread_t thread;
  int requests;
  double *latencies;
};

static void *run_client(void *arg)
{
  struct client *c = arg;
  int fd = connect_socket(), i;

  for (i = 0; i < c->requests; i++) {
    double start = now_us();

    send_all(fd, request, request_len);
    read_response(fd);
    c->latencies[i] = now_us() - start;
  }
  close(fd);
  return NULL;
}

static int compare_doubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static void print_percentiles(double *all, size_t n, double seconds)
{
  qsort(all, n, sizeof(double), compare_doubles);
  printf("requests=%zu p50_us=%.0f p99_us=%.0f rate_per_s=%.0f\n", n,
         all[n / 2], all[n * 99 / 100], n / seconds);
}

static void bench_check(int clients, int per_client, const char *exe)
{
  char body[1024];
  struct client *c = calloc((size_t)clients, sizeof(*c));
  double *all = malloc(sizeof(double) * (size_t)clients * (size_t)per_client);
  double start;
  size_t n = 0;
  int i, j;

  snprintf(body, sizeof(body),
           "{\"executable\":\"%s\",\"args\":[\"-c\",\"true\"]}", exe);
  request_len = (size_t)snprintf(
      request, sizeof(request),
      "POST /check HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
      "application/json\r\nContent-Length: %zu\r\n\r\n%s",
      strlen(body), body);
  start = now_us();
  for (i = 0; i < clients; i++) {
    c[i].requests = per_client;
    c[i].latencies = malloc(sizeof(double) * (size_t)per_client);
    pthread_create(&c[i].thread, NULL, run_client, &c[i]);
  }
  for (i = 0; i < clients; i++) {
    pthread_join(c[i].thread, NULL);
    for (j = 0; j < per_client; j++)
      all[n++] = c[i].latencies[j];
    free(c[i].latencies);
  }
  printf("check clients=%d ", clients);
  print_percentiles(all, n, (now_us() - start) / 1e6);
  free(all);
  free(c);
}

static void bench_raw(int requests, const char *exe)
{
  char body[1024], buf[65536];
  double *all = malloc(sizeof(double) * (size_t)requests);
  double start = now_us();
  int i;

  snprintf(body, sizeof(body), "{\"executable\":\"%s\"}", exe);
  request_len =
      (size_t)snprintf(request, sizeof(request),
                       "POST /raw HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                       "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                       strlen(body), body);
  for (i = 0; i < requests; i++) {
    double t0 = now_us();
    int fd = connect_socket();
    size_t have = 0;

    send_all(fd, request, request_len);
    for (;;) {
      ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

      if (n <= 0)
        break;
      have += (size_t)n;
      buf[have] = '\0';
      if (strstr(buf, "\"event\":\"exit\"") != NULL)
        break;
    }
    all[i] = now_us() - t0;
    close(fd);
  }
  printf("raw executable=%s ", exe);
  print_percentiles(all, (size_t)requests, (now_us() - start) / 1e6);
  free(all);
}

int main(int argc, char **argv)
{
  if (argc == 6 && strcmp(argv[2], "check") == 0) {
    socket_path = argv[1];
    bench_check(atoi(argv[3]), atoi(argv[4]), argv[5]);
    return 0;
  }
  if (argc == 5 && strcmp(argv[2], "raw") == 0) {
    socket_path = argv[1];
    bench_raw(atoi(argv[3]), argv[4]);
    return 0;
  }
  fprintf(stderr, "usage: mcp-bench SOCKET check CLIENTS REQUESTS EXE\n"
                  "       mcp-bench SOCKET raw REQUESTS EXE\n");
  return 2;
}
