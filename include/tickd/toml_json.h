/* toml_json.h -- a TOML tree as toml-test's tagged JSON (used by tests/toml-decoder and the conformance test).
 *
 * Tables become objects and arrays arrays (in document order); every other value becomes
 * {"type": T, "value": "<text>"} with T the toml_type_name() of the value and, for the date-time kinds,
 * "datetime", "datetime-local", "date-local" or "time-local". */
#ifndef TICKD_TOML_JSON_H
#define TICKD_TOML_JSON_H

#include <jansson.h>

#include "tickd/toml.h"

/* A new reference, or NULL when out of memory. */
json_t *toml_to_tagged_json(const toml_value *v);

#endif
