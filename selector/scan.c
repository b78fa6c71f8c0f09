/* How a link reads its inputs (enum as_scan, selector.h): one value, moved
 * down only here, so that what one reader decided no other undoes. */
#include "selector.h"

void as_link_want_symbols(struct as_link *link) {
  link->scan = AS_SCAN_ALL;
  link->scan_why = "every symbol was asked for";
}

void as_link_scan_full(struct as_link *link, const char *why,
                       const char *input) {
  if (link->scan != AS_SCAN_QUICK)
    return;
  link->scan = AS_SCAN_REFERENCED;
  link->scan_why = why;
  link->scan_input = input ? as_xstrdup(input) : NULL;
}
