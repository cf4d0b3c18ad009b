/* decimal.h -- exact comparison of decimal text, so that prices are never turned into doubles.
 *
 * The accepted syntax is what exchanges send for prices and sizes: an optional '-', one or more digits, and
 * optionally '.' followed by one or more digits ("65000.10", "0.00000100", "-3"). No '+', no exponent, no
 * spaces, no ".5" or "5.". Length is unlimited: the comparison walks the text, it never converts it.
 *
 * Equality is numeric: leading zeros of the integer part, trailing zeros of the fraction and the sign of
 * zero do not matter ("65000.10" == "65000.1", "007" == "7", "-0.0" == "0"). */
#ifndef TICKD_DECIMAL_H
#define TICKD_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

#include "tickd/tick.h"

/* True when s is a decimal in the syntax above. NULL and "" are not. This is the one decimal syntax of tickd:
 * the adapters take a venue's text by it, the merge and the sinks check by it. */
bool decimal_valid(const char *s);

/* The same for len bytes at p (no NUL needed): a span of a venue's message. */
bool decimal_span_valid(const char *p, size_t len);

/* Compares a and b numerically; *order becomes -1, 0 or 1 (a < b, a == b, a > b).
 * Returns 0, or -EINVAL (and leaves *order alone) when either is not a valid decimal. */
int decimal_compare(const char *a, const char *b, int *order);

/* -1, 0 or 1 for a negative, zero or positive decimal; -2 when s is not a valid decimal. */
int decimal_sign(const char *s);

/* Whether a tick's prices and sizes are values a market can quote: each field empty (not sent) or a valid
 * decimal, the prices (bid, ask, last) above zero and the sizes not below. A venue that sends a bid of -5
 * or an ask of 0 sent something broken, and a zero ask would otherwise become the best ask of its symbol:
 * the adapters count such a message as malformed and the merge refuses such a tick. The fields must be
 * NUL-terminated. */
bool decimal_tick_values_ok(const struct tick *t);

#endif
