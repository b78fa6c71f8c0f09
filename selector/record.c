/* Writes the decision record object with libelf (see record.h). */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "selector.h"

static size_t align4(size_t n) {
  return (n + 3) & ~(size_t)3;
}

static int fail(char **error, const char *what) {
  *error = as_xasprintf("cannot write the decision record: %s: %s", what,
                        elf_errmsg(-1));
  return -1;
}

/* A 32-bit word in the target's byte order. */
static void put_word(unsigned char *p, uint32_t v, bool big) {
  for (int i = 0; i < 4; i++)
    p[big ? i : 3 - i] = (unsigned char)(v >> (24 - 8 * i));
}

/* The record object, for the output's machine (class, byte order and
 * e_machine of the decision): a linker refuses an object of another. */
void *as_record_note(const char *text, bool big, size_t *size) {
  size_t namesz = sizeof AS_RECORD_NOTE_NAME, descsz = strlen(text) + 1;
  *size = 12 + align4(namesz) + align4(descsz);
  unsigned char *note = as_xcalloc(1, *size);
  put_word(note, (uint32_t)namesz, big);
  put_word(note + 4, (uint32_t)descsz, big);
  put_word(note + 8, AS_RECORD_NOTE_TYPE, big);
  memcpy(note + 12, AS_RECORD_NOTE_NAME, namesz);
  memcpy(note + 12 + align4(namesz), text, descsz);
  return note;
}

static int write_object(int fd, const struct as_decision *d, const char *text,
                        char **error) {
  /* .note.GNU-stack, empty, keeps the stack non-executable. */
  static const char shstrtab[] =
      "\0" AS_RECORD_SECTION "\0.shstrtab\0.note.GNU-stack";
  bool big = d->elf_data == ELFDATA2MSB;
  size_t size;
  unsigned char *note = as_record_note(text, big, &size);

  int rc = 0;
  int elf_class = d->elf_class == ELFCLASS32 ? ELFCLASS32 : ELFCLASS64;
  Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
  GElf_Ehdr eh;
  if (!e || !gelf_newehdr(e, elf_class) || !gelf_getehdr(e, &eh)) {
    rc = fail(error, "header");
    goto out;
  }
  eh.e_ident[EI_DATA] = big ? ELFDATA2MSB : ELFDATA2LSB;
  eh.e_type = ET_REL;
  eh.e_machine = d->machine;
  eh.e_version = EV_CURRENT;

  const struct {
    size_t name;
    Elf64_Word type;
    void *data;
    size_t size;
  } secs[] = {
      {1, SHT_NOTE, note, size},
      {1 + sizeof AS_RECORD_SECTION, SHT_STRTAB, (void *)shstrtab,
       sizeof shstrtab},
      {1 + sizeof AS_RECORD_SECTION + sizeof ".shstrtab", SHT_PROGBITS, NULL,
       0},
  };
  for (size_t i = 0; i < sizeof secs / sizeof *secs; i++) {
    Elf_Scn *scn = elf_newscn(e);
    Elf_Data *data = scn ? elf_newdata(scn) : NULL;
    GElf_Shdr sh;
    if (!data || !gelf_getshdr(scn, &sh)) {
      rc = fail(error, "section");
      goto out;
    }
    data->d_buf = secs[i].data;
    data->d_size = secs[i].size;
    data->d_type = ELF_T_BYTE; /* the note is in the target's order */
    data->d_align = secs[i].type == SHT_NOTE ? 4 : 1;
    sh.sh_name = (Elf64_Word)secs[i].name;
    sh.sh_type = secs[i].type;
    sh.sh_addralign = data->d_align;
    if (!gelf_update_shdr(scn, &sh)) {
      rc = fail(error, "section");
      goto out;
    }
    if (i == 1)
      eh.e_shstrndx = (Elf64_Half)elf_ndxscn(scn);
  }
  if (!gelf_update_ehdr(e, &eh) || elf_update(e, ELF_C_WRITE) < 0)
    rc = fail(error, "update");
out:
  elf_end(e);
  free(note);
  return rc;
}

/* In memory, no file: nothing is left behind whatever ends the link,
 * SIGKILL included. No MFD_CLOEXEC: the real linker that allocsel-ld runs
 * opens it as /dev/fd/N. */
static int record_memfd(char **error) {
  int fd = memfd_create("allocsel-record.o", 0);
  if (fd < 0)
    *error =
        as_xasprintf("cannot create the decision record: %s", strerror(errno));
  return fd;
}

int as_record_object_from(const void *bytes, size_t size, char **path,
                          char **error) {
  *path = NULL;
  int fd = record_memfd(error);
  if (fd < 0)
    return -1;
  if (!as_write_all(fd, bytes, size)) {
    *error =
        as_xasprintf("cannot write the decision record: %s", strerror(errno));
    close(fd);
    return -1;
  }
  *path = as_xasprintf("/dev/fd/%d", fd);
  return fd;
}

int as_record_object(const struct as_decision *d, enum as_output_type type,
                     char **path, char **error) {
  *path = NULL;
  if (elf_version(EV_CURRENT) == EV_NONE) {
    *error = as_xstrdup("libelf is out of date");
    return -1;
  }
  int fd = record_memfd(error);
  if (fd < 0)
    return -1;
  char *text = as_xasprintf(
      "allocator=%s\ntype=%s\nversion=%s\nreason=%s\nmalloc=%s\n",
      d->name ? d->name : "none", as_output_type_name(type), AS_VERSION,
      d->reason ? d->reason : "", d->malloc ? d->malloc : "libc");
  int rc = write_object(fd, d, text, error);
  free(text);
  if (rc != 0) {
    close(fd);
    return -1;
  }
  *path = as_xasprintf("/dev/fd/%d", fd);
  return fd;
}
