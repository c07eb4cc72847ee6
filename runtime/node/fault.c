/* fault.c — the WATVM_FAULT switches: each of the five contract switches
 * (leak-fd, no-pgrp, unbounded-queue, ignore-eof, swallow-panic) breaks
 * exactly one property so the harness's negative controls can prove it
 * notices (docs/node-contract.md); three more make a hostile child for the runtime's
 * own tests (babble: garbage on stdout among the replies; stderr-flood:
 * megabytes on stderr; stdout-flood: one 64 MiB line on stdout owed to no
 * one); three more build a wrong process tree, silently (skip-child: the
 * spec's last child is never started, node.c; restart-bare: a :restart
 * respawns the child from its name alone, without its :children, child.c;
 * zombie: one helper forked at start-up exits at once and is never reaped,
 * here, with node.c reaping only known pids); no-restart-limit (a
 * :restart parent ignores :max-restarts, supervise.c) breaks containment's
 * restart limit; and seven break supervision the way OTP defines it
 * (supervise.c, shutdown.c): ofa-forget, rfo-early, stop-spec-order,
 * transient-restart, temporary-restart, intensity-per-child,
 * backoff-no-reset; and spaced-replies writes each reply line as `{ ... :id N }`
 * (the same value, in bytes no watvm prints: proof in test_wire.c that
 * a parent passes a child's reply on as bytes). WATVM_FAULT_NODE=NAME[,NAME...]
 * limits every switch to the nodes so named, so the parent of a hostile
 * child stays healthy. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
      {"babble", FAULT_BABBLE},
      {"stderr-flood", FAULT_STDERR_FLOOD},
      {"stdout-flood", FAULT_STDOUT_FLOOD},
      {"skip-child", FAULT_SKIP_CHILD},
      {"restart-bare", FAULT_RESTART_BARE},
      {"zombie", FAULT_ZOMBIE},
      {"no-restart-limit", FAULT_NO_RESTART_LIMIT},
      {"ofa-forget", FAULT_OFA_FORGET},
      {"rfo-early", FAULT_RFO_EARLY},
      {"stop-spec-order", FAULT_STOP_SPEC_ORDER},
      {"transient-restart", FAULT_TRANSIENT_RESTART},
      {"temporary-restart", FAULT_TEMPORARY_RESTART},
      {"intensity-per-child", FAULT_INTENSITY_PER_CHILD},
      {"backoff-no-reset", FAULT_BACKOFF_NO_RESET},
      {"spaced-replies", FAULT_SPACED},
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

static bool named(const char *only, const char *name) {
  size_t want = strlen(name);
  for (const char *p = only; *p;) {
    size_t len = strcspn(p, ", ");
    if (len == want && strncmp(p, name, len) == 0) return true;
    p += len;
    p += strspn(p, ", ");
  }
  return false;
}

unsigned fault_select(const char *list, const char *only, const char *name) {
  if (only && *only && !(name && named(only, name))) return 0;
  return fault_parse(list);
}

/* ---- stderr-flood ------------------------------------------------------- */

/* Blocking on purpose: the flood goes as fast as the parent reads it. */
static int put_fd(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd pf = {.fd = fd, .events = POLLOUT};
      poll(&pf, 1, 1000);
      continue;
    }
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

#define FLOOD_LONG_LINE (32u << 20) /* no newline: over any line limit */

/* Then, for as long as the node lives, a page of short lines whenever its
 * stderr can take one (a page: the write never blocks the node). */
static void on_flood(void *data, int fd, unsigned ev) {
  struct node *n = data;
  static unsigned long seq;
  char page[4096];
  size_t len = 0;
  (void)ev;
  while (len + 128 <= sizeof page) {
    int k = snprintf(page + len, 128, "stderr-flood: line %lu from %.32s, not a "
                     "panic, only noise ..........\n", ++seq, n->spec.name);
    if (k <= 0 || k >= 128) break;
    len += (size_t)k;
  }
  ssize_t w = write(fd, page, len);
  (void)w;
}

/* One line of `bytes` (a multiple of 64 KiB) times `ch` on fd, blocking. */
static int long_line(int fd, size_t bytes, char ch) {
  static char chunk[65536];
  memset(chunk, ch, sizeof chunk);
  for (size_t k = 0; k < bytes / sizeof chunk; k++)
    if (put_fd(fd, chunk, sizeof chunk) < 0) return -1;
  return put_fd(fd, "\n", 1);
}

static void flood(struct node *n) {
  if (long_line(STDERR_FILENO, FLOOD_LONG_LINE, 'x') < 0) return;
  loop_want(n->loop, STDERR_FILENO, LOOP_WRITE, on_flood, n);
}

/* ---- stdout-flood ------------------------------------------------------- */

#define FLOOD_STDOUT_LINE (64u << 20)

/* One line of FLOOD_STDOUT_LINE bytes on stdout before the node serves: no
 * request waits on it yet, so its parent owes it nothing. */
static void flood_stdout(void) {
  long_line(STDOUT_FILENO, FLOOD_STDOUT_LINE, 'y');
}

/* ---- babble ------------------------------------------------------------- */

/* The last line queued on n->out, which the caller just printed. */
static void repeat_last(struct node *n) {
  struct outq *q = &n->out;
  size_t end = q->b.len, start = end > q->head ? end - 1 : end;
  if (end == q->head) return;
  while (start > q->head && q->b.ptr[start - 1] != '\n') start--;
  char copy[4096];
  size_t len = end - start < sizeof copy ? end - start : 0;
  if (len) {
    memcpy(copy, q->b.ptr + start, len);
    outq_append(q, copy, len);
  }
}

void fault_babble(struct node *n) {
  static unsigned turn;
  char line[256];
  const char *me = n->spec.name;
  int len = 0;
  switch (turn++ % 7) {
  case 0: len = snprintf(line, sizeof line, "babble from %.64s: this line is not EDN {\n", me); break;
  case 1: len = snprintf(line, sizeof line, "[:not :a :reply \"%.64s\"]\n", me); break;
  case 2: len = snprintf(line, sizeof line, "{:node \"%.64s\" :pong true}\n", me); break;
  case 3: len = snprintf(line, sizeof line, "{:id \"seven\" :node \"%.64s\" :pong true}\n", me); break;
  case 4: len = snprintf(line, sizeof line, "{:id 9223372036854775807 :node \"%.64s\" :pong true}\n", me); break;
  case 5: repeat_last(n); return; /* the same :id twice */
  default: len = snprintf(line, sizeof line, "\xff\xfe%c babble: invalid UTF-8 and a NUL\n\n", 0); break;
  }
  if (len > 0) outq_append(&n->out, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
}

/* ---- spaced-replies ------------------------------------------------------ */

void fault_spaced(struct node *n, size_t len) {
  struct edn_buf *b = &n->out.b;
  if (len < 3 || len > outq_bytes(&n->out)) return;
  const char *line = b->ptr + b->len - len;
  if (line[0] != '{' || line[len - 2] != '}') return;
  /* {:id N REST} → { REST :id N }; ":id N" is line[1, 1 + idlen), up to
   * the blank after the id (none: only the spaces are added) */
  size_t idlen = 0;
  if (len > 5 && memcmp(line, "{:id ", 5) == 0) {
    idlen = 4;
    while (1 + idlen < len - 2 && line[1 + idlen] != ' ') idlen++;
    if (line[1 + idlen] != ' ') idlen = 0;
  }
  char *copy = malloc(len);
  if (!copy) return;
  memcpy(copy, line, len);
  b->len -= len; /* the line again, respelled */
  size_t rest = 1 + idlen + (idlen ? 1 : 0);
  struct outq_piece p[] = {{"{ ", 2}, {copy + rest, len - 2 - rest},
                           {" ", idlen ? 1 : 0}, {copy + 1, idlen},
                           {" }\n", 3}};
  if (outq_pieces(&n->out, p, 5) < 0) outq_append(&n->out, copy, len);
  free(copy);
}

/* ---- zombie ------------------------------------------------------------- */

/* A child that exits at once (holding the node's fds only until then) and
 * that the node never reaps: a zombie under it for its whole life. The
 * node waits for the exit without reaping (WNOWAIT), so the zombie is
 * there before it serves anything: a scan right after start must see it
 * (CI once scanned while the helper still ran, and the control passed). */
static void zombie(void) {
  pid_t z = fork();
  if (z == 0) _exit(0);
  siginfo_t si;
  if (z > 0)
    while (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
}

void fault_start(struct node *n) {
  if (n->faults & FAULT_ZOMBIE) zombie();
  if (n->faults & FAULT_STDOUT_FLOOD) flood_stdout();
  if (n->faults & FAULT_STDERR_FLOOD) flood(n);
  if (n->faults & FAULT_BABBLE)
    for (int i = 0; i < 7; i++) fault_babble(n);
}
