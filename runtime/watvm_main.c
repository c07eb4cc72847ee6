/* placeholder until the runtime lands */
#include <stdio.h>
int main(void) { fputs("watvm: fatal: not built yet\n", stderr); return 64; }
