/* Unit tests of the decimal module: syntax, numeric equality, order, very long decimals. */
#include <errno.h>
#include <string.h>

#include "tickd/decimal.h"
#include "tt.h"

static int cmp(const char *a, const char *b) {
    int order = 99;
    TT_ASSERT_INT(decimal_compare(a, b, &order), 0);
    return order;
}

static void test_valid_syntax(void) {
    const char *good[] = {"0", "7", "-3", "65000.10", "0.00000100", "007.500", "-0.0", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) TT_ASSERT(decimal_valid(good[i]));
    const char *bad[] = {"", "-", ".", ".5", "5.", "+1", "1e5", "1.2.3", " 1", "1 ", "0x10", "1,5", "--1", "nan", "-.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) TT_ASSERT(!decimal_valid(bad[i]));
    TT_ASSERT(!decimal_valid(NULL));
}

static void test_equal_forms(void) {
    TT_ASSERT_INT(cmp("65000.10", "65000.1"), 0);
    TT_ASSERT_INT(cmp("0065000.1000", "65000.1"), 0);
    TT_ASSERT_INT(cmp("1", "1.000"), 0);
    TT_ASSERT_INT(cmp("0", "-0.000"), 0);
    TT_ASSERT_INT(cmp("000", "0.0"), 0);
    TT_ASSERT_INT(cmp("-2.50", "-2.5"), 0);
}

static void test_order(void) {
    TT_ASSERT_INT(cmp("65000.1", "65000.09"), 1);
    TT_ASSERT_INT(cmp("65000.09", "65000.1"), -1);
    TT_ASSERT_INT(cmp("9.99", "10"), -1);
    TT_ASSERT_INT(cmp("100", "99.999999"), 1);
    TT_ASSERT_INT(cmp("0.0001", "0.001"), -1);
    TT_ASSERT_INT(cmp("-1", "0"), -1);
    TT_ASSERT_INT(cmp("0", "-0.0001"), 1);
    TT_ASSERT_INT(cmp("-1.5", "-1.25"), -1); /* more negative is smaller */
    TT_ASSERT_INT(cmp("-10", "-9"), -1);
    TT_ASSERT_INT(cmp("0.1", "0.10000000000000001"), -1);
}

static void test_long_decimals(void) {
    /* Longer than any double keeps: they differ only in the last of 60 fraction digits. */
    char a[200], b[200];
    strcpy(a, "123456789012345678901234567890.");
    strcpy(b, a);
    for (int i = 0; i < 59; i++) strcat(a, "3"), strcat(b, "3");
    strcat(a, "4");
    strcat(b, "5");
    TT_ASSERT_INT(cmp(a, b), -1);
    TT_ASSERT_INT(cmp(b, a), 1);
    TT_ASSERT_INT(cmp(a, a), 0);
    strcat(a, "0000000000");
    b[strlen(b) - 1] = '4';
    TT_ASSERT_INT(cmp(a, b), 0);

    /* 1e40 vs 999...9 (40 nines): integer length decides. */
    char big[64] = "1", nines[64] = "";
    for (int i = 0; i < 40; i++) strcat(big, "0"), strcat(nines, "9");
    TT_ASSERT_INT(cmp(big, nines), 1);
}

static void test_invalid_is_error(void) {
    int order = 42;
    TT_ASSERT_INT(decimal_compare("1e3", "1000", &order), -EINVAL);
    TT_ASSERT_INT(decimal_compare("1", "", &order), -EINVAL);
    TT_ASSERT_INT(decimal_compare(NULL, "1", &order), -EINVAL);
    TT_ASSERT_INT(order, 42);
}

static void test_sign_and_tick_values(void) {
    TT_ASSERT_INT(decimal_sign("-5"), -1);
    TT_ASSERT_INT(decimal_sign("-0.000"), 0);
    TT_ASSERT_INT(decimal_sign("000"), 0);
    TT_ASSERT_INT(decimal_sign("0.0001"), 1);
    TT_ASSERT_INT(decimal_sign("-0.0001"), -1);
    TT_ASSERT_INT(decimal_sign("1e3"), -2);
    TT_ASSERT_INT(decimal_sign(""), -2);

    struct tick t;
    memset(&t, 0, sizeof t);
    TT_ASSERT(decimal_tick_values_ok(&t)); /* nothing sent */
    strcpy(t.bid, "65000.1");
    strcpy(t.bid_qty, "0");
    strcpy(t.ask, "65000.2");
    strcpy(t.ask_qty, "0.5");
    strcpy(t.last, "65000.1");
    TT_ASSERT(decimal_tick_values_ok(&t));
    strcpy(t.bid, "-5");
    TT_ASSERT(!decimal_tick_values_ok(&t));
    strcpy(t.bid, "1");
    strcpy(t.ask, "0");
    TT_ASSERT(!decimal_tick_values_ok(&t));
    strcpy(t.ask, "2");
    strcpy(t.ask_qty, "-0.1");
    TT_ASSERT(!decimal_tick_values_ok(&t));
    strcpy(t.ask_qty, "1");
    strcpy(t.last, "0.0");
    TT_ASSERT(!decimal_tick_values_ok(&t));
    strcpy(t.last, "x");
    TT_ASSERT(!decimal_tick_values_ok(&t));
}

int main(void) {
    TT_RUN(test_sign_and_tick_values);
    TT_RUN(test_valid_syntax);
    TT_RUN(test_equal_forms);
    TT_RUN(test_order);
    TT_RUN(test_long_decimals);
    TT_RUN(test_invalid_is_error);
    return tt_finish();
}
