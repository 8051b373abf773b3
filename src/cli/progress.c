/* Progress on a terminal for long commands: one line on stderr, redrawn in
 * place (a bar, the count, the time left), at most ten times a second; nothing
 * when stderr is not a terminal, so logs and pipes stay clean. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

void glia_cli_clock_text(double s, char *buf, size_t len)
{
    int t = s > 0 && s < 3.6e7 ? (int)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%d:%02d:%02d", t / 3600 % 10000, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%02d:%02d", t / 60 % 60, t % 60);
}

void glia_cli_bar(char *bar, int width, int64_t done, int64_t total)
{
    int fill = total > 0 ? (int)(width * done / total) : 0;
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[width] = '\0';
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void glia_cli_progress_start(glia_cli_progress *p, const char *what)
{
    p->tty = isatty(2);
    p->shown = 0;
    p->t0 = now();
    p->last = 0;
    snprintf(p->what, sizeof p->what, "%s", what);
}

void glia_cli_progress_step(void *user, int64_t done, int64_t total)
{
    glia_cli_progress *p = user;
    double t = now();
    if (!p->tty || (t - p->last < 0.1 && done < total))
        return;
    p->last = t;
    char bar[25], eta[32];
    glia_cli_bar(bar, 24, done, total);
    double el = t - p->t0;
    glia_cli_clock_text(done > 0 ? el / (double)done * (double)(total - done) : 0, eta, sizeof eta);
    fprintf(stderr, "\r\033[K%s [%s] %lld/%lld  ETA %s", p->what, bar, (long long)done, (long long)total, eta);
    p->shown = 1;
}

void glia_cli_progress_end(glia_cli_progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}
