/* crc32.h -- the CRC-32 of IEEE 802.3 / zlib (reflected polynomial 0xEDB88320), which Kraken's and OKX's book
 * checksums are defined by.
 *
 * Why a module of its own: tickd does not link zlib (nothing else would use it), and a book checksum runs on
 * about a kilobyte of text per update, which a 1 KiB table serves well. Chainable as zlib's crc32(): start with
 * 0 and feed the result back in, so a text hashed in pieces gives the checksum of the whole. */
#ifndef TICKD_CRC32_H
#define TICKD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of the n bytes at p appended to a text whose CRC-32 is crc (0 for none). crc32_update(0, "123456789",
 * 9) is 0xCBF43926. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
