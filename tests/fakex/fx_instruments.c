/* fx_instruments.c -- the venues' instrument lists: what every dialect's list endpoint shares, and the symbols
 * listed, halted and delisted at runtime.
 *
 * Each dialect writes its list (fx_dialect.instruments) in the shape of the venue's documentation, every symbol
 * with its status: Binance GET /api/v3/exchangeInfo (weight 20; TRADING, HALT, a delisted pair BREAK), Coinbase
 * GET /products (online, trading_disabled when halted, delisted), Kraken GET /0/public/AssetPairs (online,
 * cancel_only when halted, a delisted pair gone), OKX GET /api/v5/public/instruments?instType=SPOT (live, suspend,
 * a delisted instrument gone). Here every request to it is counted (the report's "instruments"), and the
 * instrument faults answer instead: instruments_status=N (that HTTP status until set to 0) and
 * instruments_malformed=N (the next N lists cut in the middle, with status 200).
 *
 * A listing at runtime (control list=1&symbol=S) appends a symbol to the venue: from then on it is in the list and
 * served on every stream and REST endpoint like the symbols of the command line. The list is written straight into
 * one buffer, without a JSON tree: 50,000 symbols take tens of milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakex.h"

const char *fx_status_name(int status) {
    switch (status) {
    case FX_TRADING: return "trading";
    case FX_HALTED: return "halted";
    case FX_DELISTED: return "delisted";
    default: return "?";
    }
}

int64_t fx_tick_units(const struct fx_symbol *s) {
    int64_t t = 1;
    for (int k = s->dp; k < 8; k++) t *= 10;
    return t;
}

int64_t fx_lot_units(const struct fx_symbol *s) {
    int64_t l = 1;
    for (int k = s->qdp; k < 8; k++) l *= 10;
    return l;
}

void fx_symbol_parts(const struct fx_symbol *s, char base[24], char quote[24]) {
    const char *dash = strchr(s->norm, '-');
    size_t n = dash ? (size_t)(dash - s->norm) : strlen(s->norm);
    snprintf(base, 24, "%.*s", (int)(n < 23 ? n : 23), s->norm);
    snprintf(quote, 24, "%s", dash ? dash + 1 : "");
}

bool fx_instruments_request(struct fx_conn *c, const struct fx_http_req *req) {
    struct fx_venue *v = c->venue;
    if (!v || !v->d->instruments || strcmp(req->path, v->d->instruments_path) != 0) return false;
    v->instrument_requests++;
    struct fx_faults *f = &v->faults;
    if (f->instruments_status) {
        static const char html[] = "<html><body><h1>fakex: instrument list refused</h1></body></html>";
        v->instrument_faults++;
        fx_http_reply(c, (int)f->instruments_status, NULL, html, sizeof html - 1);
        return true;
    }
    /* The list is written into the venue's buffer and sent from there (into a fresh one while a write still reads
     * it): a list of 50,000 is neither copied nor written into fresh pages on every request. */
    struct fx_buf fresh = {0}, *out = v->instruments_writes ? &fresh : &v->instruments_body;
    out->len = 0;
    fx_buf_reserve(out, v->nsyms * 1024 + 4096);
    int status = v->d->instruments(v, req, out);
    size_t len = out->len;
    if (status == 200 && f->instruments_malformed > 0) { /* valid HTTP, half a JSON text */
        f->instruments_malformed--;
        v->instrument_faults++;
        len /= 2;
    }
    if (out == &fresh) fx_http_reply_large(c, status, fresh.data, len, NULL);
    else fx_http_reply_large(c, status, out->data, len, &v->instruments_writes);
    return true;
}

void fx_instrument_status(struct fx_venue *v, size_t sym, enum fx_status status) {
    if (sym < v->nsyms) v->syms[sym].status = (uint8_t)status;
}

int fx_instrument_list(struct fx_venue *v, const char *norm, char *err, size_t errlen) {
    long i = fx_symbol_find(v->syms, v->nsyms, offsetof(struct fx_symbol, norm), norm);
    if (i >= 0) {
        if (v->syms[i].status != FX_DELISTED) {
            snprintf(err, errlen, "symbol '%s' is listed on %s already", norm, v->d->name);
            return -1;
        }
        fx_instrument_status(v, (size_t)i, FX_TRADING); /* listed again */
        v->instruments_listed++;
        return 0;
    }
    size_t n = v->nsyms;
    if (fx_symbol_append(&v->syms, &v->nsyms, norm, v->id) < 0) {
        snprintf(err, errlen, "cannot list '%s' on %s (want BASE-QUOTE, upper-case letters and digits)", norm,
                 v->d->name);
        return -1;
    }
    for (struct fx_conn *c = v->conns; c; c = c->next) { /* every connection can subscribe it from now on */
        if (!c->subs) continue;
        uint8_t *grown = realloc(c->subs, v->nsyms);
        if (!grown) {
            fputs("fakex: out of memory\n", stderr);
            abort();
        }
        memset(grown + n, 0, v->nsyms - n);
        c->subs = grown;
    }
    v->instruments_listed++;
    return 0;
}
