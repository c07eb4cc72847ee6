/* fault.c — the WATVM_FAULT switches: each breaks exactly one property so
 * the harness's negative controls can prove it notices (DESIGN.md). */
#include <string.h>

#include "node.h"

unsigned fault_parse(const char *list) {
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {
      {"leak-fd", FAULT_LEAK_FD},
      {"no-pgrp", FAULT_NO_PGRP},
      {"unbounded-queue", FAULT_UNBOUNDED_QUEUE},
      {"ignore-eof", FAULT_IGNORE_EOF},
      {"swallow-panic", FAULT_SWALLOW_PANIC},
  };
  unsigned bits = 0;
  if (!list) return 0;
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ", ");
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (len == strlen(names[i].name) && strncmp(p, names[i].name, len) == 0)
        bits |= names[i].bit;
    p += len;
    p += strspn(p, ", ");
  }
  return bits;
}
