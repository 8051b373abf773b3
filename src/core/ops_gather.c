/* Row gather by a host index: y[i,:] = table[idx[i],:] (the relative position
 * bias of window attention: a learned table looked up by a fixed index). The
 * index is given on the host because it is fixed by the model's geometry;
 * the inverse index the backward needs (which lookups hit each table row) is
 * built there once per call by a counting sort, so the gradient is summed in
 * a fixed order on every backend, without atomics. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

/* An int32 device tensor holding n host values. */
static glia_status upload_i32(glia_device *dev, const int32_t *v, int64_t n, glia_tensor **out)
{
    glia_status s = glia_tensor_empty_typed(dev, GLIA_ETYPE_I32, 1, &n, out);
    if (s == GLIA_STATUS_OK) {
        size_t es = glia_etype_size(GLIA_ETYPE_I32);
        s = dev->be->write(dev->ctx, (*out)->storage->buf, (*out)->off * es, v, (size_t)n * es);
    }
    return glia_out_fail(s, out);
}

static glia_status gather_backward(glia_node *nd, glia_tensor *g)
{
    glia_tensor *table = nd->in[0], *dt = NULL;
    glia_status s = glia_tensor_empty_like(table, &dt);
    if (s != GLIA_STATUS_OK)
        return s;
    glia_op op = {.kind = GLIA_OP_GATHER_ROWS_BWD,
                  .t = {glia_view(g), glia_view(nd->saved[0]), glia_view(nd->saved[1]), glia_view(dt)}};
    op.p.gather.n = nd->p.gather.n;
    op.p.gather.w = nd->p.gather.w;
    op.p.gather.rows = nd->p.gather.rows;
    op.p.gather.max_run = nd->p.gather.max_run;
    if ((s = glia_run(g->dev, &op)) == GLIA_STATUS_OK)
        s = glia_grad_accum(table, dt);
    glia_tensor_free(dt);
    return s;
}

/* The inverse of idx (values < rows) as order/start device tensors, and the
 * longest run of one row. */
static glia_status inverse_index(glia_device *dev, const int32_t *idx, int64_t n, int64_t rows, glia_tensor **order,
                                 glia_tensor **start, size_t *max_run)
{
    int32_t *st = calloc((size_t)rows + 1, sizeof *st), *ord = malloc((size_t)n * sizeof *ord);
    glia_status s = GLIA_STATUS_OK;
    if (!st || !ord) {
        s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_gather_rows: no host memory for the inverse index");
    } else {
        for (int64_t i = 0; i < n; i++)
            st[idx[i] + 1]++;
        *max_run = 0;
        for (int64_t r = 0; r < rows; r++) {
            if ((size_t)st[r + 1] > *max_run)
                *max_run = (size_t)st[r + 1];
            st[r + 1] += st[r];
        }
        int32_t *next = malloc((size_t)rows * sizeof *next);
        if (!next) {
            s = glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "glia_gather_rows: no host memory for the inverse index");
        } else {
            memcpy(next, st, (size_t)rows * sizeof *next);
            for (int64_t i = 0; i < n; i++)
                ord[next[idx[i]]++] = (int32_t)i;
            free(next);
            if ((s = upload_i32(dev, ord, n, order)) == GLIA_STATUS_OK)
                s = upload_i32(dev, st, rows + 1, start);
        }
    }
    free(st);
    free(ord);
    return s;
}

glia_status glia_gather_rows(glia_tensor *table, const int32_t *idx, int64_t n, glia_tensor **out)
{
    glia_status s;
    if (!out)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_gather_rows: out is NULL");
    *out = NULL;
    if ((s = glia_check_tensor(table, "glia_gather_rows: table")) != GLIA_STATUS_OK)
        return s;
    if (table->ndim != 2)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH, "glia_gather_rows: the table has %d dimensions (2: rows, width)",
                           table->ndim);
    if (!idx || n < 1 || n > INT32_MAX)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_gather_rows: %lld indices%s", (long long)n,
                           idx ? " (1 to 2^31-1 allowed)" : " from a NULL array");
    int64_t rows = table->shape[0], w = table->shape[1];
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= rows)
            return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT, "glia_gather_rows: index %lld is %d, the table has %lld rows",
                               (long long)i, (int)idx[i], (long long)rows);
    glia_device *dev = table->dev;
    glia_tensor *ti = NULL, *order = NULL, *start = NULL;
    size_t max_run = 0;
    int64_t shape[2] = {n, w};
    if ((s = upload_i32(dev, idx, n, &ti)) != GLIA_STATUS_OK ||
        (s = glia_tensor_empty(dev, 2, shape, out)) != GLIA_STATUS_OK) {
        glia_tensor_free(ti);
        return s;
    }
    glia_op op = {.kind = GLIA_OP_GATHER_ROWS, .t = {glia_view(table), glia_view(ti), glia_view(*out)}};
    op.p.gather.n = (size_t)n;
    op.p.gather.w = (size_t)w;
    op.p.gather.rows = (size_t)rows;
    s = glia_run(dev, &op);
    glia_tensor_free(ti);   /* the queue keeps its buffer until the gather has run */
    glia_node *nd;
    if (s == GLIA_STATUS_OK && glia_grad_needed(dev, &table, 1) &&
        (s = inverse_index(dev, idx, n, rows, &order, &start, &max_run)) == GLIA_STATUS_OK &&
        (s = glia_tape_record(dev, gather_backward, *out, &table, 1, &nd)) == GLIA_STATUS_OK) {
        nd->p.gather.n = (size_t)n;
        nd->p.gather.w = (size_t)w;
        nd->p.gather.rows = (size_t)rows;
        nd->p.gather.max_run = max_run;
        nd->saved[0] = order;
        nd->saved[1] = start;
        order = start = NULL;
        glia_tape_gradonly(nd, 1u | GLIA_NODE_OUT);   /* the backward reads the index only */
    }
    glia_tensor_free(order);
    glia_tensor_free(start);
    return glia_out_fail(s, out);
}
