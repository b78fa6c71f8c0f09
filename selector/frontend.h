/* The selector as front ends see it (allocsel-ld, the linker plugin, the
 * allocsel command): the model and rules (selector.h), the shared policy
 * (as_request_init, as_env_init, as_decision_inputs), the decision record
 * (record.h) and the allocation helpers. Nothing of the scanners'
 * internals: those stay behind internal.h. */
#ifndef ALLOCSEL_FRONTEND_H
#define ALLOCSEL_FRONTEND_H

#include "record.h"
#include "selector.h"
#include "util.h"

#endif
