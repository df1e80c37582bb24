/* Executable resolution and hashing. */
#include "config-host.h"

#include "exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util.h"

static bool is_executable_file(const struct stat *st)
{
  return S_ISREG(st->st_mode) && (st->st_mode & 0111) != 0;
}

static int resolve_with_slash(const char *name, const char *base_dir,
                              char **resolved, char **detail)
{
  cleanup_free char *path = NULL;
  struct stat st;

  if (name[0] == '/')
    path = mr_xstrdup(name);
  else if (base_dir[strlen(base_dir) - 1] == '/')
    path = mr_asprintf("%s%s", base_dir, name);
  else
    path = mr_asprintf("%s/%s", base_dir, name);

  if (stat(path, &st) < 0) {
    *detail = mr_asprintf("failed reading metadata for '%s': %s", path,
                          mr_strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    *detail = mr_asprintf("'%s' is not a file", path);
    return -1;
  }
  if ((st.st_mode & 0111) == 0) {
    *detail = mr_asprintf("'%s' is not executable", path);
    return -1;
  }
  *resolved = path;
  path = NULL;
  return 0;
}

static int search_path(const char *name, const char *search, char **resolved,
                       char **detail)
{
  const char *entry = search;

  if (search == NULL) {
    *detail = mr_xstrdup("PATH is not set");
    return -1;
  }

  while (name[0] != '\0') {
    const char *colon = strchr(entry, ':');
    size_t len = colon != NULL ? (size_t)(colon - entry) : strlen(entry);
    char *candidate;
    struct stat st;

    if (len == 0)
      candidate = mr_xstrdup(name);
    else
      candidate = mr_asprintf("%.*s/%s", (int)len, entry, name);
    if (stat(candidate, &st) == 0 && is_executable_file(&st)) {
      *resolved = candidate;
      return 0;
    }
    free(candidate);
    if (colon == NULL)
      break;
    entry = colon + 1;
  }

  *detail = mr_asprintf("'%s' was not found on PATH", name);
  return -1;
}

int exe_resolve(const char *name, size_t len, const char *search,
                const char *base_dir, char **resolved, char **detail)
{
  *resolved = NULL;
  if (memchr(name, '\0', len) != NULL) {
    *detail = mr_xstrdup("executable contains a nul byte");
    return -1;
  }
  if (strchr(name, '/') != NULL)
    return resolve_with_slash(name, base_dir, resolved, detail);
  return search_path(name, search, resolved, detail);
}

/* Hashes are cached by file identity (device, inode, size, mtime, ctime).
 * Any change to a file's contents moves its ctime, so a hit means the bytes
 * the child will run are the bytes that were hashed.  A write within the
 * same tick of the filesystem clock would leave ctime unchanged, so an
 * entry is only stored once the ctime is CACHE_SETTLE_NS old. */
#define CACHE_SIZE 128
#define CACHE_SETTLE_NS 2000000000LL

struct cache_entry {
  bool used;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  struct timespec ctime;
  char hash[65];
  bool is_script;
};

static struct cache_entry cache[CACHE_SIZE];
static unsigned cache_next;

static bool same_time(const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static struct cache_entry *cache_find(const struct stat *st)
{
  unsigned i;

  for (i = 0; i < CACHE_SIZE; i++) {
    struct cache_entry *e = &cache[i];

    if (e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
        e->size == st->st_size && same_time(&e->mtime, &st->st_mtim) &&
        same_time(&e->ctime, &st->st_ctim))
      return e;
  }
  return NULL;
}

static void cache_store(const struct stat *st, const char hash[65],
                        bool is_script)
{
  struct cache_entry *e;
  struct timespec now;
  long long age;

  clock_gettime(CLOCK_REALTIME, &now);
  age = (long long)(now.tv_sec - st->st_ctim.tv_sec) * 1000000000LL +
        (now.tv_nsec - st->st_ctim.tv_nsec);
  if (age < CACHE_SETTLE_NS)
    return;

  e = &cache[cache_next];
  cache_next = (cache_next + 1) % CACHE_SIZE;
  e->used = true;
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->size = st->st_size;
  e->mtime = st->st_mtim;
  e->ctime = st->st_ctim;
  memcpy(e->hash, hash, 65);
  e->is_script = is_script;
}

void exe_cache_clear(void)
{
  memset(cache, 0, sizeof(cache));
  cache_next = 0;
}

static int hash_descriptor(int fd, char hash[65], bool *is_script)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0, i;
  char block[65536];
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  off_t offset = 0;
  int rc = 0;

  if (ctx == NULL)
    return -ENOMEM;
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  *is_script = false;
  for (;;) {
    ssize_t n = pread(fd, block, sizeof(block), offset);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = -errno;
      break;
    }
    if (n == 0)
      break;
    if (offset == 0 && n >= 2 && block[0] == '#' && block[1] == '!')
      *is_script = true;
    EVP_DigestUpdate(ctx, block, (size_t)n);
    offset += n;
  }
  EVP_DigestFinal_ex(ctx, digest, &digest_len);
  EVP_MD_CTX_free(ctx);
  if (rc < 0)
    return rc;
  for (i = 0; i < 32; i++) {
    hash[2 * i] = hex[digest[i] >> 4];
    hash[2 * i + 1] = hex[digest[i] & 15];
  }
  hash[64] = '\0';
  return 0;
}

int exe_open_and_hash(const char *path, int *fd_out, char hash[65],
                      bool *is_script, char **detail)
{
  struct cache_entry *hit;
  struct stat st;
  int fd, rc;

  *fd_out = -1;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *detail = mr_asprintf("failed opening '%s' for hashing: %s", path,
                          mr_strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) < 0 || !is_executable_file(&st)) {
    close(fd);
    *detail = mr_asprintf("'%s' is no longer an executable regular file", path);
    return -1;
  }

  hit = cache_find(&st);
  if (hit != NULL) {
    memcpy(hash, hit->hash, 65);
    *is_script = hit->is_script;
    *fd_out = fd;
    return 0;
  }

  rc = hash_descriptor(fd, hash, is_script);
  if (rc < 0) {
    close(fd);
    *detail = mr_asprintf("failed reading '%s' for hashing: %s", path,
                          mr_strerror(-rc));
    return -1;
  }
  cache_store(&st, hash, *is_script);
  *fd_out = fd;
  return 0;
}
