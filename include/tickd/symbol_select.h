/* symbol_select.h -- which instruments a group collects: the names it lists, the patterns it gives, what it
 * excludes and how many at most, resolved against the names a venue trades. Pure functions on strings (no I/O,
 * no clock, no logging): the config checks the syntax with them; once the venue's instruments are known, the
 * group's list is resolved with them and the caller logs what the resolution reports.
 *
 * SYNTAX. A name is BASE-QUOTE as tickd writes it: letters and digits, one dash, neither first nor last, at most
 * SYMBOL_LEN_MAX characters; lower case is upper-cased ("btc-usdt" is "BTC-USDT"). A pattern is a name in which
 * '*' stands for any run of characters, the empty run and the dash included: "*-USDT", "BTC-*", "*", "*USD*".
 * It holds at least one '*', never two in a row (a second says nothing more), at most one dash, and a dash is
 * neither its first nor its last character (no name could match such a pattern). There is no other wildcard:
 * the names hold no character that would need quoting, and with one wildcard what a pattern matches is read at
 * a glance.
 *
 * RESOLUTION (symbol_resolve). The final list is:
 *   1. the group's names, in the order given, each once, kept whether or not the venue lists them: those the
 *      venue does not list are reported (`unlisted`), for a warning with the closest names it does list
 *      (symbol_closest), so a typo or a delisted pair is seen;
 *   2. then the venue's names that a pattern matches, sorted by name (bytewise), each once, without the group's
 *      names (already in), without those an exclude entry matches (a name is matched by itself, a pattern as
 *      above), cut so that the whole list holds at most `max` names. The cut keeps the first by name and reports
 *      how many went and the first and last of them, so the caller logs the cut once.
 * An exclude entry never takes out one of the group's names and max never cuts them: the group's names are what
 * the file asks for by name (the config refuses an exclude entry equal to a listed name, and a max that leaves
 * no room after the names). The order is a function of the inputs alone: the same config and the same venue
 * list give the same list, in whatever order the venue sent its instruments.
 *
 * The venue's list may be sorted or not and hold anything: an entry that is not a name as above (upper case
 * already) is skipped and counted, and so is a repeat. Resolving 50,000 names against "*" takes about 10 ms of
 * CPU, 2 ms when they come sorted (bench/symbol_select, on the 2-core development machine). */
#ifndef TICKD_SYMBOL_SELECT_H
#define TICKD_SYMBOL_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#define SYMBOL_LEN_MAX 31                   /* characters of a name or a pattern */
#define SYMBOL_TEXT_MAX (SYMBOL_LEN_MAX + 1) /* with its NUL: tick.h's TICK_SYMBOL_MAX */
#define SYMBOL_CLOSEST_MAX 8                /* symbol_closest returns at most this many */
#define SYMBOL_CLOSEST_DISTANCE 3           /* nor names further than this many edits away */

enum symbol_kind {
    SYMBOL_BAD = -1, /* neither */
    SYMBOL_NAME,     /* BASE-QUOTE */
    SYMBOL_PATTERN,  /* holds '*' */
};

/* Upper-cases s into out (outlen bytes, at least SYMBOL_TEXT_MAX for the longest) and says what it is. For
 * SYMBOL_BAD, *why (when why is not NULL) is a short static text saying what is wrong, to follow the text in a
 * message: "no dash", "more than one dash", "two '*' in a row", ...; out then holds nothing useful. */
enum symbol_kind symbol_parse(const char *s, char *out, size_t outlen, const char **why);

/* Whether s is a name exactly as written by symbol_parse (upper case): what a venue's list must hold. */
bool symbol_is_name(const char *s);

/* Whether name matches pattern: each '*' matches any run of characters (the empty one too), every other byte
 * itself. Defined on any two strings, of any length, in time linear in their lengths (the runs between stars
 * are found with a linear substring search), so hostile input costs nothing special. */
bool symbol_match(const char *pattern, const char *name);

/* What a group asks for. The strings must be normalized (symbol_parse); names are taken as names, patterns as
 * patterns, excludes as either (by whether they hold a '*'). */
struct symbol_select {
    const char *const *names;
    size_t nnames;
    const char *const *patterns;
    size_t npatterns;
    const char *const *excludes;
    size_t nexcludes;
    size_t max; /* the whole list at most; 0 = no bound */
};

/* What a resolution gives. list points at the select's names and at the available strings: they must outlive
 * it. */
struct symbol_resolution {
    const char **list;   /* the final list */
    size_t n;
    size_t nnames;       /* the first nnames of list are the group's names (each once) */
    size_t *unlisted;    /* positions in select.names of the names the venue does not list, in order */
    size_t nunlisted;
    size_t matched;      /* venue names a pattern matched, the group's names left out */
    size_t excluded;     /* of those, the ones an exclude entry took out */
    size_t cut;          /* of the rest, the ones max left out: the last by name */
    const char *cut_first, *cut_last; /* the first and last name cut; NULL when none */
    size_t ignored;      /* available entries skipped: not a name, or a repeat */
};

/* Resolves sel against the n names of available. Returns 0 and fills *out (free with symbol_resolution_free),
 * or -ENOMEM, with *out empty. */
int symbol_resolve(const struct symbol_select *sel, const char *const *available, size_t n,
                   struct symbol_resolution *out);
void symbol_resolution_free(struct symbol_resolution *r);

/* The names of available closest to name, for "did you mean": Damerau-Levenshtein distance (the optimal string
 * alignment one: insert, delete, substitute, swap two neighbours, each 1) on the text, at most
 * SYMBOL_CLOSEST_DISTANCE and at most a third of the length of name (at least 1: "BTC-USDX" is 2 edits from what
 * it may be taken for, so "ETH-USDT" is not offered), nearest first, ties by name. Writes up to max
 * (at most SYMBOL_CLOSEST_MAX) pointers into available to out and returns how many. name itself, when listed, is
 * the first (distance 0). Entries that are not names are skipped. About 4 ms over 50,000 names. */
size_t symbol_closest(const char *name, const char *const *available, size_t n, const char **out, size_t max);

/* The edit distance symbol_closest uses, of two texts of at most SYMBOL_LEN_MAX characters; bound + 1 when it is
 * more than bound (the work stops there), and SIZE_MAX for a longer text. */
size_t symbol_distance(const char *a, const char *b, size_t bound);

#endif
