/* Progress from worker threads: each finished item counts once, and the
 * caller's callback runs for one item at a time (under a lock), so it may
 * print without interleaving. */
#include "data/data_priv.h"

void glia_ticker_init_(glia_ticker_ *t, glia_progress_fn fn, void *user, int64_t total)
{
    t->fn = fn;
    t->user = user;
    t->total = total;
    t->done = 0;
    pthread_mutex_init(&t->lock, NULL);
}

void glia_ticker_tick_(glia_ticker_ *t)
{
    pthread_mutex_lock(&t->lock);
    t->done++;
    if (t->fn)
        t->fn(t->user, t->done, t->total);
    pthread_mutex_unlock(&t->lock);
}

void glia_ticker_destroy_(glia_ticker_ *t) { pthread_mutex_destroy(&t->lock); }
