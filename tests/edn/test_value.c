/* test_value.c — (filled in below) */
#include <criterion/criterion.h>
