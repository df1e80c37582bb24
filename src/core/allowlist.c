/* Parsing and validation of the proxy allowlists (domains.lst and
 * host_ports.lst). */
#include "config-host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxyconf.h"

#define MAX_HOSTNAME_LEN 253
#define MAX_LABEL_LEN 63
/* Maximum length of a line quoted in a message.  Invalid lines can be of any
 * length, but a valid entry (254 characters at most, for a suffix entry) is
 * always quoted whole. */
#define MAX_DISPLAY_LEN 254

enum domain_class {
  DOMAIN_INVALID,
  DOMAIN_LOOPBACK,
  DOMAIN_HOST,
  DOMAIN_SUFFIX,
  DOMAIN_ADDRESS,
};

enum entry_state {
  ENTRY_KEPT,
  ENTRY_INVALID,
  ENTRY_DUPLICATE,
  ENTRY_COVERED,
};

/* One non-empty, non-comment line of a list file. */
struct entry {
  size_t line;
  char *display; /* the value as written, escaped for a message */
  char *normal;  /* the normalised entry, NULL when invalid */
  enum domain_class domain_class;
  enum entry_state state;
  char *hint; /* printed after the error line of an invalid entry */
  const struct entry *superseded_by; /* the earlier or broader entry kept */
};

/* Copies a value for a message: bytes outside printable ASCII become \xHH,
 * so a hostile line cannot move the cursor or fake another message line, and
 * anything past MAX_DISPLAY_LEN bytes becomes "...". */
static char *display_value(const char *s, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  size_t display_len = len > MAX_DISPLAY_LEN ? MAX_DISPLAY_LEN : len;
  char *out = cl_xmalloc(display_len * 4 + 4);
  char *o = out;

  for (size_t i = 0; i < display_len; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c >= 0x20 && c < 0x7f) {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    *o++ = 'x';
    *o++ = hex[c >> 4];
    *o++ = hex[c & 0xf];
  }
  if (display_len < len) {
    memcpy(o, "...", 3);
    o += 3;
  }
  *o = '\0';
  return out;
}

static char *lowercase_copy(const char *s, size_t len)
{
  char *out = cl_xstrndup(s, len);

  for (char *p = out; *p; p++) {
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  }
  return out;
}

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool is_label_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         c == '-' || c == '_';
}

/* Checks the label grammar of a hostname: 1 to 253 characters, labels of 1
 * to 63 letters, digits, '-' and '_' joined by single dots, no label starting
 * or ending with '-'.  Sets `numeric_tail` when the last label is all
 * digits, because such a name is valid only as an IPv4 address. */
static bool check_labels(const char *s, size_t len, bool *numeric_tail)
{
  size_t start = 0;

  if (len == 0 || len > MAX_HOSTNAME_LEN)
    return false;

  while (start <= len) {
    const char *dot = memchr(s + start, '.', len - start);
    size_t end = dot ? (size_t)(dot - s) : len;
    size_t label_len = end - start;
    bool all_digits = true;

    if (label_len == 0 || label_len > MAX_LABEL_LEN)
      return false;
    if (s[start] == '-' || s[end - 1] == '-')
      return false;
    for (size_t i = start; i < end; i++) {
      if (!is_label_char(s[i]))
        return false;
      if (!is_digit(s[i]))
        all_digits = false;
    }

    *numeric_tail = all_digits;
    start = end + 1;
  }
  return true;
}

/* Parses a dotted quad: four decimal numbers 0 to 255 without leading
 * zeros, which some parsers read as octal. */
static bool parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
  size_t pos = 0;

  for (int part = 0; part < 4; part++) {
    size_t digits = 0;
    unsigned value = 0;

    if (part > 0) {
      if (pos >= len || s[pos] != '.')
        return false;
      pos++;
    }
    while (pos < len && is_digit(s[pos]) && digits < 4) {
      value = value * 10 + (unsigned)(s[pos] - '0');
      pos++;
      digits++;
    }
    if (digits == 0 || digits > 3 || value > 255)
      return false;
    if (digits > 1 && s[pos - digits] == '0')
      return false;
    out[part] = (unsigned char)value;
  }
  return pos == len;
}

static bool is_loopback_ipv4(const unsigned char addr[4])
{
  static const unsigned char any[4] = {0, 0, 0, 0};

  return addr[0] == 127 || memcmp(addr, any, 4) == 0;
}

/* Loopback IPv6 addresses: ::1, the unspecified address :: (the IPv6 form of
 * 0.0.0.0), and IPv4-mapped or IPv4-compatible forms of a loopback IPv4
 * address. */
static bool is_loopback_ipv6(const unsigned char addr[16])
{
  static const unsigned char zeros[12] = {0};
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};

  if (memcmp(addr, zeros, 12) == 0) {
    if (addr[12] == 0 && addr[13] == 0 && addr[14] == 0 && addr[15] <= 1)
      return true;
    return is_loopback_ipv4(addr + 12);
  }
  if (memcmp(addr, mapped, 12) == 0)
    return is_loopback_ipv4(addr + 12);
  return false;
}

static bool is_loopback_name(const char *name)
{
  static const char tld[] = "localhost";
  size_t len = strlen(name);
  size_t tld_len = sizeof(tld) - 1;

  if (strcasecmp(name, tld) == 0)
    return true;
  return len > tld_len && name[len - tld_len - 1] == '.' &&
         strcasecmp(name + len - tld_len, tld) == 0;
}

static enum domain_class classify_ipv6(const char *s, size_t len, char **normal)
{
  char text[INET6_ADDRSTRLEN];
  unsigned char addr[16];

  if (len >= sizeof(text) || memchr(s, '\0', len) != NULL)
    return DOMAIN_INVALID;
  memcpy(text, s, len);
  text[len] = '\0';
  if (inet_pton(AF_INET6, text, addr) != 1)
    return DOMAIN_INVALID;
  if (is_loopback_ipv6(addr))
    return DOMAIN_LOOPBACK;

  /* inet_ntop() gives one spelling per address (lowercase, zeros
   * compressed), so duplicates compare equal. */
  if (inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL)
    return DOMAIN_INVALID;
  *normal = cl_xstrdup(text);
  return DOMAIN_ADDRESS;
}

/* Classifies one domain-list value and sets `*normal` to its normalised form
 * when it is valid. */
static enum domain_class classify_domain(const char *s, size_t len,
                                         char **normal)
{
  bool suffix = len > 0 && s[0] == '.';
  const char *name = suffix ? s + 1 : s;
  size_t name_len = suffix ? len - 1 : len;
  bool numeric_tail = false;
  unsigned char ipv4[4];
  cleanup_free char *lower = NULL;

  *normal = NULL;
  if (!suffix && memchr(s, ':', len) != NULL)
    return classify_ipv6(s, len, normal);
  if (!check_labels(name, name_len, &numeric_tail))
    return DOMAIN_INVALID;

  if (numeric_tail) {
    /* An address has no subdomains, so '.1.2.3.4' is no suffix entry. */
    if (suffix || !parse_ipv4(name, name_len, ipv4))
      return DOMAIN_INVALID;
    if (is_loopback_ipv4(ipv4))
      return DOMAIN_LOOPBACK;
    *normal = cl_xstrndup(s, len);
    return DOMAIN_ADDRESS;
  }

  lower = lowercase_copy(s, len);
  if (is_loopback_name(suffix ? lower + 1 : lower))
    return DOMAIN_LOOPBACK;
  *normal = lower;
  lower = NULL;
  return suffix ? DOMAIN_SUFFIX : DOMAIN_HOST;
}

/* Parses a decimal port of 1 to 65535. */
static bool parse_port(const char *s, size_t len, unsigned *port)
{
  unsigned value = 0;

  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(s[i]))
      return false;
    value = value * 10 + (unsigned)(s[i] - '0');
    if (value > 65535)
      return false;
  }
  if (value == 0)
    return false;
  *port = value;
  return true;
}

/* Parses `P` or `A-B` and sets `*normal` to `P` or `A-B` without leading
 * zeros, with `A-A` written as `A` so that `80` and `80-80` compare equal. */
static bool parse_port_entry(const char *s, size_t len, char **normal)
{
  const char *dash = memchr(s, '-', len);
  unsigned low, high;

  if (dash == NULL) {
    if (!parse_port(s, len, &low))
      return false;
    high = low;
  } else {
    size_t low_len = (size_t)(dash - s);

    if (!parse_port(s, low_len, &low) ||
        !parse_port(dash + 1, len - low_len - 1, &high) || low > high)
      return false;
  }

  if (low == high)
    *normal = cl_asprintf("%u", low);
  else
    *normal = cl_asprintf("%u-%u", low, high);
  return true;
}

/* The hint for `*.rest`, when `.rest` would be a valid suffix entry. */
static char *wildcard_hint(const char *s, size_t len)
{
  cleanup_free char *normal = NULL;
  cleanup_free char *rest = NULL;

  if (len < 3 || s[0] != '*' || s[1] != '.')
    return NULL;
  if (classify_domain(s + 2, len - 2, &normal) != DOMAIN_HOST)
    return NULL;
  rest = display_value(s + 2, len - 2);
  return cl_asprintf("'.%s' matches %s and all its subdomains", rest, rest);
}

static void classify_entry(enum cl_proxy_list_kind kind, const char *s,
                           size_t len, struct entry *e)
{
  e->display = display_value(s, len);
  e->state = ENTRY_INVALID;

  if (kind == CL_PROXY_LIST_PORTS) {
    if (parse_port_entry(s, len, &e->normal))
      e->state = ENTRY_KEPT;
    return;
  }

  e->domain_class = classify_domain(s, len, &e->normal);
  switch (e->domain_class) {
  case DOMAIN_INVALID:
    e->hint = wildcard_hint(s, len);
    break;
  case DOMAIN_LOOPBACK:
    e->hint = cl_xstrdup("to reach a service on the host, use 'cladding "
                         "inject'");
    break;
  case DOMAIN_HOST:
  case DOMAIN_SUFFIX:
  case DOMAIN_ADDRESS:
    e->state = ENTRY_KEPT;
    break;
  }
}

/* Orders entries by normalised value, then by line. */
static int compare_entries(const void *a, const void *b)
{
  const struct entry *x = *(const struct entry *const *)a;
  const struct entry *y = *(const struct entry *const *)b;
  int cmp = strcmp(x->normal, y->normal);

  if (cmp != 0)
    return cmp;
  return x->line < y->line ? -1 : x->line > y->line;
}

static int compare_key_entry(const void *key, const void *item)
{
  const struct entry *e = *(const struct entry *const *)item;

  return strcmp(key, e->normal);
}

/* Marks every entry equal to an earlier one as a duplicate of the first. */
static void mark_duplicates(struct entry **sorted, size_t count)
{
  size_t first = 0;

  for (size_t i = 1; i < count; i++) {
    if (strcmp(sorted[i]->normal, sorted[first]->normal) != 0) {
      first = i;
      continue;
    }
    sorted[i]->state = ENTRY_DUPLICATE;
    sorted[i]->superseded_by = sorted[first];
  }
}

/* Marks each hostname `h` or suffix `.h` that a suffix entry `.d` covers (h
 * equals d or ends with .d).  When several suffixes cover it, the broadest
 * one is named, because that one is never covered itself and stays in the
 * list. */
static void mark_covered(struct entry **sorted, size_t count)
{
  struct entry **suffixes = cl_xcalloc(count, sizeof(*suffixes));
  size_t suffix_count = 0;
  char candidate[MAX_HOSTNAME_LEN + 2];

  /* `sorted` is ordered by value, so `suffixes` is too. */
  for (size_t i = 0; i < count; i++) {
    if (sorted[i]->state == ENTRY_KEPT &&
        sorted[i]->domain_class == DOMAIN_SUFFIX)
      suffixes[suffix_count++] = sorted[i];
  }

  for (size_t i = 0; i < count && suffix_count > 0; i++) {
    struct entry *e = sorted[i];
    bool is_suffix = e->domain_class == DOMAIN_SUFFIX;
    const char *name = is_suffix ? e->normal + 1 : e->normal;
    struct entry *broadest = NULL;

    if (e->state != ENTRY_KEPT ||
        (e->domain_class != DOMAIN_HOST && !is_suffix))
      continue;

    for (const char *p = name; *p; p++) {
      struct entry **found;

      if (p != name && p[-1] != '.')
        continue;
      /* A suffix entry does not cover itself. */
      if (is_suffix && p == name)
        continue;
      candidate[0] = '.';
      strcpy(candidate + 1, p);
      found = bsearch(candidate, suffixes, suffix_count, sizeof(*suffixes),
                      compare_key_entry);
      if (found != NULL)
        broadest = *found;
    }

    if (broadest != NULL) {
      e->state = ENTRY_COVERED;
      e->superseded_by = broadest;
    }
  }
  free(suffixes);
}

static const char *entry_word(enum cl_proxy_list_kind kind)
{
  return kind == CL_PROXY_LIST_PORTS ? "port" : "domain";
}

/* Prints the messages of one entry and keeps its value when it stays. */
static void report_entry(enum cl_proxy_list_kind kind, const char *path,
                         const struct entry *e, struct cl_proxy_list *list)
{
  switch (e->state) {
  case ENTRY_KEPT:
    cl_strv_push(&list->entries, e->normal);
    break;
  case ENTRY_INVALID:
    cl_log(CLADDING_LOG_ERROR, "%s:%zu: invalid %s entry '%s'", path, e->line,
           entry_word(kind), e->display);
    if (e->hint != NULL)
      cl_log(CLADDING_LOG_HINT, "%s", e->hint);
    break;
  case ENTRY_DUPLICATE:
    cl_log(CLADDING_LOG_WARNING,
           "%s:%zu: duplicate entry '%s' ignored (see line %zu)", path, e->line,
           e->display, e->superseded_by->line);
    break;
  case ENTRY_COVERED:
    cl_log(CLADDING_LOG_WARNING,
           "%s:%zu: '%s' ignored, already matched by '%s' (line %zu)", path,
           e->line, e->display, e->superseded_by->normal,
           e->superseded_by->line);
    break;
  }
}

/* Returns the next line of [*pos, end) without its '\n', its trailing '\r'
 * characters and surrounding spaces and tabs, and advances `*pos`. */
static const char *next_line(const char **pos, const char *end, size_t *len)
{
  const char *start = *pos;
  const char *newline = memchr(start, '\n', (size_t)(end - start));
  const char *stop = newline ? newline : end;

  *pos = newline ? newline + 1 : end;
  while (stop > start && stop[-1] == '\r')
    stop--;
  while (start < stop && (*start == ' ' || *start == '\t'))
    start++;
  while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
    stop--;
  *len = (size_t)(stop - start);
  return start;
}

int cl_proxy_list_parse(enum cl_proxy_list_kind kind, const char *path,
                        const char *text, size_t len,
                        struct cl_proxy_list *list)
{
  const char *pos = text;
  const char *end = text + len;
  struct entry *entries = NULL;
  struct entry **sorted;
  size_t count = 0, cap = 0, valid = 0, line = 0;
  bool any_invalid = false;

  while (pos < end) {
    size_t value_len;
    const char *value = next_line(&pos, end, &value_len);

    line++;
    if (value_len == 0 || value[0] == '#')
      continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      entries = cl_xrealloc(entries, cap * sizeof(*entries));
    }
    memset(&entries[count], 0, sizeof(entries[count]));
    entries[count].line = line;
    classify_entry(kind, value, value_len, &entries[count]);
    count++;
  }

  sorted = cl_xcalloc(count, sizeof(*sorted));
  for (size_t i = 0; i < count; i++) {
    if (entries[i].state == ENTRY_KEPT)
      sorted[valid++] = &entries[i];
  }
  qsort(sorted, valid, sizeof(*sorted), compare_entries);
  mark_duplicates(sorted, valid);
  if (kind == CL_PROXY_LIST_DOMAINS)
    mark_covered(sorted, valid);
  free(sorted);

  for (size_t i = 0; i < count; i++) {
    report_entry(kind, path, &entries[i], list);
    if (entries[i].state == ENTRY_INVALID)
      any_invalid = true;
  }
  for (size_t i = 0; i < count; i++) {
    free(entries[i].display);
    free(entries[i].normal);
    free(entries[i].hint);
  }
  free(entries);
  return any_invalid ? -1 : 0;
}

/* Reads and validates ROOT/config/<rel>.  Returns 0, 1 when the file has an
 * invalid line, or -1 when it cannot be read. */
static int load_list(const char *root, const char *rel,
                     enum cl_proxy_list_kind kind, struct cl_proxy_list *list,
                     struct cl_error *err)
{
  cleanup_free char *config_dir = cl_path_join(root, "config");
  cleanup_free char *data = NULL;
  size_t len = 0;
  int ret;

  list->source = cl_path_join(config_dir, rel);
  ret = cl_read_file(list->source, &data, &len);
  if (ret < 0) {
    cl_log(CLADDING_LOG_ERROR, "failed to read %s: %s", list->source,
           strerror(-ret));
    return cl_fail(err, 1, "failed to read %s", list->source);
  }
  return cl_proxy_list_parse(kind, list->source, data, len, list) < 0 ? 1 : 0;
}

int cl_proxy_lists_load(const char *root, bool nw_sandbox_enabled,
                        struct cl_proxy_lists *lists, struct cl_error *err)
{
  int bad_domains, bad_ports, bad_nw = 0;

  memset(lists, 0, sizeof(*lists));

  bad_domains = load_list(root, "agent/domains.lst", CL_PROXY_LIST_DOMAINS,
                          &lists->agent_domains, err);
  if (bad_domains < 0)
    return -1;
  bad_ports = load_list(root, "agent/host_ports.lst", CL_PROXY_LIST_PORTS,
                        &lists->agent_host_ports, err);
  if (bad_ports < 0)
    return -1;
  if (nw_sandbox_enabled) {
    bad_nw = load_list(root, "nw_sandbox/domains.lst", CL_PROXY_LIST_DOMAINS,
                       &lists->nw_sandbox_domains, err);
    if (bad_nw < 0)
      return -1;
  }

  if (bad_domains || bad_nw)
    cl_log(CLADDING_LOG_HINT, "use one hostname, '.domain' or IP address per "
                              "line; '#' starts a comment");
  if (bad_ports)
    cl_log(CLADDING_LOG_HINT, "use one port (1-65535) or range A-B per line");
  if (bad_domains || bad_ports || bad_nw)
    return cl_fail(err, 1, "invalid proxy allowlist");
  return 0;
}

void cl_proxy_list_free(struct cl_proxy_list *list)
{
  free(list->source);
  list->source = NULL;
  cl_strv_free(&list->entries);
}

void cl_proxy_lists_free(struct cl_proxy_lists *lists)
{
  cl_proxy_list_free(&lists->agent_domains);
  cl_proxy_list_free(&lists->agent_host_ports);
  cl_proxy_list_free(&lists->nw_sandbox_domains);
}
