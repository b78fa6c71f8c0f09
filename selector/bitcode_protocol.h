/* The bitcode reader's protocol (bitcode.c asks, bitcode_reader.c answers),
 * over one stream socket, all integers in the host's byte order:
 *
 *   request:  u32 path length, path, u64 offset, u64 size
 *   answer:   u8 status
 *             AS_BC_OK:    u8 thin_lto, u32 count, then per symbol
 *                          u8 role (AS_BC_DEF, AS_BC_REF, AS_BC_WEAK_REF),
 *                          u32 length, name
 *             AS_BC_ERROR: u32 length, LLVM's message
 *
 * LLVM's reader aborts the process on some malformed input, so it runs in
 * its own: a reader that dies mid-answer costs that one input, reported as
 * malformed, and the next bitcode input starts a new reader. */
#ifndef ALLOCSEL_BITCODE_PROTOCOL_H
#define ALLOCSEL_BITCODE_PROTOCOL_H

enum { AS_BC_OK = 0, AS_BC_ERROR = 1, AS_BC_NO_LLVM = 2 };
enum { AS_BC_DEF = 1, AS_BC_REF = 2, AS_BC_WEAK_REF = 3 };
/* Longest name or message accepted: a larger length is a broken stream. */
enum { AS_BC_MAX_STRING = 1 << 24 };

#define AS_BITCODE_READER "allocsel-bitcode-reader"

#endif
