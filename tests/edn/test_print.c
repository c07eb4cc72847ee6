/* test_print.c — (filled in below) */
#include <criterion/criterion.h>
