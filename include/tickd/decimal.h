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

/* True when s is a decimal in the syntax above. NULL and "" are not. */
bool decimal_valid(const char *s);

/* Compares a and b numerically; *order becomes -1, 0 or 1 (a < b, a == b, a > b).
 * Returns 0, or -EINVAL (and leaves *order alone) when either is not a valid decimal. */
int decimal_compare(const char *a, const char *b, int *order);

#endif
