/* The decision record: a non-allocated ELF note, ".note.allocsel", that
 * allocsel adds to every artifact it links. Each note's text holds
 *   allocator=NAME\ntype=TYPE\nversion=V\nreason=WHY\n
 * An rlib's note rides along into the final link, so an artifact may hold
 * several; the one whose type matches the artifact is its own. */
#ifndef ALLOCSEL_RECORD_H
#define ALLOCSEL_RECORD_H

#include "selector.h"

#define AS_RECORD_SECTION ".note.allocsel"
#define AS_RECORD_NOTE_NAME "allocsel"
#define AS_RECORD_NOTE_TYPE 1

/* The note holding `text`, in the target's byte order: malloc'd, *size
 * bytes. */
void *as_record_note(const char *text, bool big, size_t *size);
/* Writes a relocatable object holding the note for `d` into an in-memory
 * file: returns its descriptor (the caller closes it when the link is
 * done) with *path naming it ("/dev/fd/N", valid in this process and the
 * linker it runs), or -1 with a malloc'd *error. */
int as_record_object(const struct as_decision *d, enum as_output_type type,
                     char **path, char **error);
/* The same from a record's bytes, as a remembered decision kept them. */
int as_record_object_from(const void *bytes, size_t size, char **path,
                          char **error);

#endif
