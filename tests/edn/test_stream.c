/* test_stream.c — (filled in below) */
#include <criterion/criterion.h>
