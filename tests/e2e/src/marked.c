/* A unit marked as needing an allocator that calls into a unit that needs
 * one (cyc_log): the no-cycle rule refuses it. */
#include <allocsel/allocator.h>

ALLOCSEL_NEEDS_ALLOCATOR();

void cyc_log(const char *what);

void marked_entry(void) {
  cyc_log("marked");
}
