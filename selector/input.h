/* Inputs (input.c): recognised by their magic, read into units, read
 * again in full when the quick read was not enough. */
#ifndef ALLOCSEL_SELECTOR_INPUT_H
#define ALLOCSEL_SELECTOR_INPUT_H

#include "selector.h"

/* Bytes that become one unit: a whole input, an archive member or a view
 * the plugin mapped. `data` holds `size` bytes (writable, private: libelf
 * may convert in place), found at `file_off` in the input's file. */
struct as_source {
  uint32_t input;
  const char *member; /* archive member name, or NULL */
  size_t member_off;  /* its header's offset */
  const char *path;   /* the file holding the bytes, NULL: the input's */
  void *data;
  size_t file_off, size;
  bool full; /* read every symbol: an archive member */
};
/* Recognises the source by its magic and scans it (input.c). Returns the
 * unit index, or AS_NO_UNIT with a diagnostic. */
uint32_t as_add_unit(struct as_link *link, const struct as_source *src);

/* Inputs the cache answered for (input.c): an archive is opened, a unit's
 * symbol table read, when the link turns out to need them. */
int as_input_open_known(struct as_link *link, uint32_t input);
void as_unit_read_known(struct as_link *link, struct as_unit *u);

/* Reads every symbol of a unit first read quickly (see as_link): from what
 * it kept, else from its file again. */
int as_unit_rescan(struct as_link *link, uint32_t unit);

#endif
