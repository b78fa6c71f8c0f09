/* What reading a file taught allocsel, kept between links: an object's or
 * shared library's allocator facts, and of an archive that its index
 * names nothing the decision looks for and, once read, that no member of
 * it references the allocator ABI. A relink then looks at each unchanged
 * input with one stat, where reading it takes an open, a read and a close
 * (and an archive's members a read each): on a link of 1,800 inputs the
 * scan's cost goes from the file system's to a hash table's.
 *
 * Only what lets the quick path go on is kept: a unit that is an
 * allocator, defines the ABI or carries a marker makes the full
 * resolution necessary, which reads every symbol anyway, so it is never
 * learnt. The full resolution reads the units the cache answered for as
 * it reads any other (input.c, as_unit_read_known).
 *
 * A file is known by its device, inode, size, modification and change
 * times: writing to a file updates its change time, which no program can
 * set back, so a rewritten file is never taken for the one learnt about.
 * As git does with its index, a file changed in this second or the last
 * is not learnt: a timestamp is only as fine as the file system's clock,
 * and a second write within one tick would keep the first one's times.
 *
 * The table is a file that is the hash table itself (a header, then the
 * slots, 64 bytes each, in this machine's byte order), with no parsing: a
 * link reads its header, then each slot it probes (one pread each), so it
 * pays for the entries it looks up, not for the size of the cache, which
 * grows to megabytes. What a link learns is appended to a log beside it
 * (facts-v4.log: a header naming this build, then slots), in one write;
 * every link reads the log whole, and it is kept short: the link that
 * would take it past LOG_MAX entries rewrites the table with the log's
 * entries and its own in it, and removes the log. So a link that learns
 * costs a small append, and the whole table is read and written once per
 * LOG_MAX learnt entries. The table is written whole to a temporary file
 * and renamed into place (an open table never changes under a link); an
 * append never tears what is there; a torn last entry is left out, and
 * the next link that learns folds the log into the table.
 * Concurrent links at worst lose each other's additions. A table whose
 * header, or a slot read, does not check out is ignored whole, as is a
 * log whose header does not. `allocsel cache` lists both. */
#include "cache.h"

#include "input.h"
#include <elf.h>

#include "facts_build_id.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* At most this many files: a table that would hold more starts again
 * from what this link learnt (older entries are most likely files
 * rebuilt since). 2^17 entries in 2^18 slots make a 16 MiB file. */
enum { MAX_ENTRIES = 1 << 17, MIN_SLOTS = 1 << 10 };
/* At most this many entries in the log (16 KiB), read whole by every
 * link. */
enum { LOG_MAX = 256 };

static const char magic[16] = "allocsel-facts5\n";
static const char log_magic[16] = "allocsel-flog5\n\n";
/* The selector's sources, hashed (selector/facts_build_id.cmake): facts
 * learnt by another build of it may be classified otherwise, so a file
 * another build wrote is ignored whole. */
static const char build_id[32] = AS_FACTS_BUILD_ID;

struct header {
  char magic[16];
  char build_id[32];
  uint32_t slot_size; /* sizeof(struct slot): another layout is ignored */
  uint32_t nslots;    /* a power of two */
  uint64_t nentries;
};

/* A slot: empty while facts.kind is AS_CACHED_NONE. */
struct slot {
  struct as_file_key key;
  struct as_cached_facts facts;
};
_Static_assert(sizeof(struct slot) == 64, "a slot is 64 bytes, no padding");
_Static_assert(sizeof(struct header) == 64, "the header is 64 bytes");

struct as_cache {
  char *path;           /* the table */
  char *log_path;       /* the log beside it */
  int fd;               /* the table, while its slots are read one by one */
  struct header head;   /* its header, while fd is open */
  struct header *image; /* header and slots in memory, to rewrite it */
  struct slot *slots;   /* image + 1 */
  struct slot *log;     /* the log's entries, as read */
  size_t nlog;
  bool table_ok;      /* the table file checked out, as far as read */
  bool log_bad;       /* a log of another build, or unreadable */
  struct slot *added; /* learnt by this link */
  size_t nadded, added_cap;
  bool loaded;        /* the files were read (at the first question) */
  int64_t racy_after; /* change times from this second on are not learnt */
};

void as_file_key_of(struct as_file_key *k, const struct stat *st) {
  *k = (struct as_file_key){.dev = (uint64_t)st->st_dev,
                            .ino = (uint64_t)st->st_ino,
                            .size = (uint64_t)st->st_size,
                            .mtime_sec = (int64_t)st->st_mtim.tv_sec,
                            .mtime_nsec = (int64_t)st->st_mtim.tv_nsec,
                            .ctime_sec = (int64_t)st->st_ctim.tv_sec,
                            .ctime_nsec = (int64_t)st->st_ctim.tv_nsec};
}

static size_t slot_of(uint32_t nslots, const struct as_file_key *k) {
  uint64_t h = (k->ino ^ (k->dev << 32) ^ k->size ^ (uint64_t)k->ctime_nsec ^
                (uint64_t)k->ctime_sec << 20) *
               0x9e3779b97f4a7c15u;
  return (size_t)(h >> 32) & (nslots - 1);
}

static bool same_key(const struct as_file_key *a, const struct as_file_key *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
         a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/* The slot holding k, or the empty one where it would go (the table is
 * never more than half full). */
static struct slot *find_slot(struct as_cache *c, const struct as_file_key *k) {
  size_t mask = c->image->nslots - 1;
  for (size_t j = slot_of(c->image->nslots, k);; j = (j + 1) & mask)
    if (c->slots[j].facts.kind == AS_CACHED_NONE ||
        same_key(&c->slots[j].key, k))
      return &c->slots[j];
}

static void new_image(struct as_cache *c, uint32_t nslots) {
  c->image = as_xcalloc(1, sizeof *c->image + nslots * sizeof(struct slot));
  memcpy(c->image->magic, magic, sizeof magic);
  memcpy(c->image->build_id, build_id, sizeof build_id);
  c->image->slot_size = sizeof(struct slot);
  c->image->nslots = nslots;
  c->slots = (struct slot *)(c->image + 1);
}

/* Twice the slots, or an empty table once it would hold too many. */
static void grow(struct as_cache *c) {
  struct header *old = c->image;
  struct slot *slots = c->slots;
  bool full = old->nentries + 1 > MAX_ENTRIES;
  new_image(c, full ? MIN_SLOTS : 2 * old->nslots);
  for (uint32_t i = 0; i < old->nslots && !full; i++)
    if (slots[i].facts.kind != AS_CACHED_NONE) {
      *find_slot(c, &slots[i].key) = slots[i];
      c->image->nentries++;
    }
  free(old);
}

/* The directory: ALLOCSEL_CACHE_DIR, else $XDG_CACHE_HOME/allocsel, else
 * $HOME/.cache/allocsel; none with ALLOCSEL_CACHE=0. */
char *as_cache_dir(void) {
  if (!as_env_flag("ALLOCSEL_CACHE", true))
    return NULL;
  const char *dir = getenv("ALLOCSEL_CACHE_DIR");
  if (dir && *dir)
    return as_xstrdup(dir);
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/')
    return as_xasprintf("%s/allocsel", xdg);
  const char *home = getenv("HOME");
  if (home && *home == '/')
    return as_xasprintf("%s/.cache/allocsel", home);
  return NULL;
}

void as_link_use_cache(struct as_link *link) {
  char *dir = as_cache_dir();
  if (!dir)
    return;
  struct as_cache *c = as_xcalloc(1, sizeof *c);
  c->path = as_xasprintf("%s/facts-v4", dir);
  c->log_path = as_xasprintf("%s/facts-v4.log", dir);
  c->fd = -1;
  free(dir);
  link->cache = c;
}

const char *as_cache_path(const struct as_link *link) {
  return link->cache ? link->cache->path : NULL;
}

static bool valid_facts(const struct as_cached_facts *f) {
  switch (f->kind) {
  case AS_CACHED_NONE:
    return true;
  case AS_CACHED_ARCHIVE:
    return !(f->flags & ~AS_FACTS_ARCHIVE) && !f->abi_undef && !f->elf_class &&
           !f->elf_data && !f->machine && !f->reserved;
  case AS_CACHED_UNIT:
    return !(f->flags & ~AS_FACTS_UNIT) && f->abi_undef < 1u << AS_ABI_COUNT &&
           (f->elf_class == ELFCLASS32 || f->elf_class == ELFCLASS64) &&
           (f->elf_data == ELFDATA2LSB || f->elf_data == ELFDATA2MSB) &&
           !f->reserved;
  default:
    return false;
  }
}

/* The file's header, if it checks out against the file's size. */
static bool read_header(int fd, struct header *h) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
         pread(fd, h, sizeof *h, 0) == (ssize_t)sizeof *h &&
         memcmp(h->magic, magic, sizeof magic) == 0 &&
         memcmp(h->build_id, build_id, sizeof build_id) == 0 &&
         h->slot_size == sizeof(struct slot) && h->nslots >= MIN_SLOTS &&
         h->nslots <= 2u * MAX_ENTRIES && !(h->nslots & (h->nslots - 1)) &&
         h->nentries * 2 <= h->nslots &&
         (uint64_t)st.st_size ==
             sizeof *h + (uint64_t)h->nslots * sizeof(struct slot);
}

/* The whole table from the open file, if every slot checks out. */
static struct header *read_image(int fd, const struct header *h) {
  size_t size = sizeof *h + (size_t)h->nslots * sizeof(struct slot), n = 0;
  struct header *image = as_xmalloc(size);
  while (n < size) {
    ssize_t r = pread(fd, (char *)image + n, size - n, (off_t)n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  const struct slot *slots = (const struct slot *)(image + 1);
  uint64_t used = 0;
  for (uint32_t i = 0; n == size && i < h->nslots; i++) {
    if (!valid_facts(&slots[i].facts))
      n = 0;
    used += slots[i].facts.kind != AS_CACHED_NONE;
  }
  if (n != size || memcmp(image, h, sizeof *h) != 0 || used != h->nentries) {
    free(image);
    image = NULL;
  }
  return image;
}

/* Done with the table file: in memory now, or ignored. */
static void drop_file(struct as_cache *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

/* The log's entries, up to the first that does not check out (a torn
 * write), which marks it bad; a log of another build, or longer than any
 * links leave it, is bad and ignored. */
static void read_log(struct as_cache *c) {
  int fd = open(c->log_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return;
  struct stat st;
  struct header h;
  /* Links running at once may each append up to LOG_MAX entries. */
  size_t most = sizeof h + 4 * LOG_MAX * sizeof(struct slot);
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (uint64_t)st.st_size > most ||
      pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
      memcmp(h.magic, log_magic, sizeof log_magic) != 0 ||
      memcmp(h.build_id, build_id, sizeof build_id) != 0 ||
      h.slot_size != sizeof(struct slot)) {
    c->log_bad = true;
    close(fd);
    return;
  }
  size_t n = ((size_t)st.st_size - sizeof h) / sizeof(struct slot);
  c->log = as_xcalloc(n ? n : 1, sizeof *c->log);
  ssize_t got = n ? pread(fd, c->log, n * sizeof *c->log, sizeof h) : 0;
  close(fd);
  size_t whole = got > 0 ? (size_t)got / sizeof *c->log : 0;
  for (c->nlog = 0; c->nlog < whole; c->nlog++)
    if (c->log[c->nlog].facts.kind == AS_CACHED_NONE ||
        !valid_facts(&c->log[c->nlog].facts))
      break;
  /* What follows a torn entry is out of step: the entries before it are
   * believed, and the next link that learns folds them into the table. */
  if (c->nlog != n || got != (ssize_t)(n * sizeof *c->log) ||
      ((size_t)st.st_size - sizeof h) % sizeof(struct slot))
    c->log_bad = true;
}

/* Opens the table and reads the log the first time the cache is asked
 * anything; a table that is missing or does not check out is an empty
 * one. */
static struct as_cache *loaded(const struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || c->loaded)
    return c;
  c->loaded = true;
  c->racy_after = (int64_t)time(NULL) - 1;
  c->fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (c->fd >= 0 && !read_header(c->fd, &c->head))
    drop_file(c);
  c->table_ok = c->fd >= 0;
  if (c->fd < 0)
    new_image(c, MIN_SLOTS);
  read_log(c);
  return c;
}

/* What an earlier link learnt of an archive stays true: its flags are
 * added to the new entry's. */
static void keep_learnt(struct as_cached_facts *f,
                        const struct as_cached_facts *known) {
  if (f->kind == AS_CACHED_ARCHIVE && known->kind == AS_CACHED_ARCHIVE)
    f->flags |= known->flags;
}

/* Puts an entry into the table in memory, an archive's flags added to
 * what the table knew of it. */
static void put(struct as_cache *c, const struct slot *e) {
  struct slot *s = find_slot(c, &e->key);
  if (s->facts.kind == AS_CACHED_NONE &&
      2 * (c->image->nentries + 1) > c->image->nslots) {
    grow(c);
    s = find_slot(c, &e->key);
  }
  struct as_cached_facts f = e->facts;
  keep_learnt(&f, &s->facts);
  if (s->facts.kind == AS_CACHED_NONE)
    c->image->nentries++;
  *s = (struct slot){.key = e->key, .facts = f};
}

/* The whole table in memory, with the log's and this link's entries in
 * it: to rewrite it, or to list it. */
static struct as_cache *in_memory(const struct as_link *link) {
  struct as_cache *c = loaded(link);
  if (!c)
    return c;
  if (c->fd >= 0) {
    c->image = read_image(c->fd, &c->head);
    drop_file(c);
    if (c->image)
      c->slots = (struct slot *)(c->image + 1);
    else
      new_image(c, MIN_SLOTS);
  }
  for (size_t i = 0; i < c->nlog; i++)
    put(c, &c->log[i]);
  for (size_t i = 0; i < c->nadded; i++)
    put(c, &c->added[i]);
  c->nlog = c->nadded = 0;
  return c;
}

/* Looks k up in the table file, a slot a read. False where it is not
 * there; a slot that does not check out leaves the table ignored whole. */
static bool lookup_in_file(struct as_cache *c, const struct as_file_key *k,
                           struct as_cached_facts *facts) {
  size_t mask = c->head.nslots - 1;
  for (size_t j = slot_of(c->head.nslots, k), probes = 0; probes <= mask;
       j = (j + 1) & mask, probes++) {
    struct slot s;
    off_t at = (off_t)(sizeof c->head + j * sizeof s);
    if (pread(c->fd, &s, sizeof s, at) != (ssize_t)sizeof s ||
        !valid_facts(&s.facts))
      break;
    if (s.facts.kind == AS_CACHED_NONE)
      return false;
    if (same_key(&s.key, k)) {
      *facts = s.facts;
      return true;
    }
  }
  drop_file(c);
  c->table_ok = false;
  new_image(c, MIN_SLOTS);
  return false;
}

/* The latest entry for k among n (an archive's later entries carry what
 * the earlier ones knew). */
static const struct slot *latest(const struct slot *e, size_t n,
                                 const struct as_file_key *k) {
  while (n-- > 0)
    if (same_key(&e[n].key, k))
      return &e[n];
  return NULL;
}

bool as_cache_lookup(const struct as_link *link, const struct as_file_key *k,
                     struct as_cached_facts *facts) {
  struct as_cache *c = loaded(link);
  if (!c)
    return false;
  const struct slot *e = latest(c->added, c->nadded, k);
  if (!e)
    e = latest(c->log, c->nlog, k);
  if (e) {
    *facts = e->facts;
    return true;
  }
  if (c->fd >= 0)
    return lookup_in_file(c, k, facts);
  const struct slot *s = find_slot(c, k);
  if (s->facts.kind == AS_CACHED_NONE)
    return false;
  *facts = s->facts;
  return true;
}

void as_cache_learn(struct as_link *link, const struct as_file_key *k,
                    const struct as_cached_facts *facts) {
  struct as_cache *c = loaded(link);
  if (!c || k->ctime_sec >= c->racy_after || facts->kind == AS_CACHED_NONE)
    return;
  struct as_cached_facts f = *facts, known;
  if (as_cache_lookup(link, k, &known)) {
    keep_learnt(&f, &known);
    if (memcmp(&known, &f, sizeof f) == 0)
      return;
  }
  *AS_PUSH(c->added, c->nadded, c->added_cap) =
      (struct slot){.key = *k, .facts = f};
}

/* Appends this link's entries to the log in one write (a new log starts
 * with its header). False where it cannot. */
static bool append_log(struct as_cache *c) {
  size_t n = c->nadded * sizeof(struct slot);
  char *buf = as_xmalloc(sizeof(struct header) + n);
  struct header h = {.slot_size = sizeof(struct slot)};
  memcpy(h.magic, log_magic, sizeof log_magic);
  memcpy(h.build_id, build_id, sizeof build_id);
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, c->added, n);
  bool ok = false;
  int fd = open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
                0666);
  if (fd >= 0) /* a new log: its header first, in the same write */
    ok = write(fd, buf, sizeof h + n) == (ssize_t)(sizeof h + n);
  else if (errno == EEXIST &&
           (fd = open(c->log_path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0)
    ok = write(fd, buf + sizeof h, n) == (ssize_t)n;
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  free(buf);
  return ok;
}

void as_cache_save(struct as_link *link) {
  struct as_cache *c = link->cache;
  if (!c || !c->nadded) /* nothing learnt (or nothing asked) */
    return;
  /* A cache that cannot be written is no error: the next link reads the
   * files again. */
  if (c->table_ok && !c->log_bad && c->nlog + c->nadded <= LOG_MAX) {
    if (append_log(c))
      c->nadded = 0;
    return;
  }
  /* The log is full, or the table or the log is missing or does not check
   * out: the table is rewritten with everything in it, and the log goes. */
  in_memory(link);
  size_t size = sizeof *c->image + c->image->nslots * sizeof(struct slot);
  if (as_write_file_whole(c->path, c->image, size))
    unlink(c->log_path);
}

void as_cache_print(const struct as_link *link, FILE *f) {
  struct as_cache *c = in_memory(link);
  for (uint32_t i = 0; c && i < c->image->nslots; i++) {
    const struct as_file_key *k = &c->slots[i].key;
    const struct as_cached_facts *x = &c->slots[i].facts;
    if (x->kind == AS_CACHED_NONE)
      continue;
    fprintf(f,
            "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09" PRId64
            " %" PRId64 ".%09" PRId64 " ",
            k->dev, k->ino, k->size, k->mtime_sec, k->mtime_nsec, k->ctime_sec,
            k->ctime_nsec);
    if (x->kind == AS_CACHED_ARCHIVE)
      fprintf(f, "a %x\n", x->flags);
    else
      fprintf(f, "o %x %x %u %u %u\n", x->abi_undef, x->flags, x->machine,
              x->elf_class, x->elf_data);
  }
}

void as_cache_free(struct as_cache *c) {
  if (!c)
    return;
  drop_file(c);
  free(c->path);
  free(c->log_path);
  free(c->log);
  free(c->added);
  free(c->image);
  free(c);
}
