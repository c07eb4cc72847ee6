/* test_fixtures.c — (filled in below) */
#include <criterion/criterion.h>
