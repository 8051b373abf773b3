/* The autograd tape: a Wengert list per device. Ops append nodes in execution
 * order, so walking the list backwards visits every node after all its
 * consumers: no topological sort is needed. Nodes hold references to their
 * tensors until backward (or glia_tape_clear) drops them. */
#include <stdlib.h>
#include <string.h>
#include "core.h"

int glia_grad_needed(glia_device *dev, glia_tensor *const *in, int n)
{
    if (!dev->grad_enabled)
        return 0;
    for (int i = 0; i < n; i++)
        if (in[i] && in[i]->requires_grad)
            return 1;
    return 0;
}

glia_status glia_tape_record(glia_device *dev, glia_backward_fn fn, glia_tensor *out,
                             glia_tensor *const *in, int nin, glia_node **node)
{
    glia_tape *tape = &dev->tape;
    if (tape->n == tape->cap) {
        int cap = tape->cap ? tape->cap * 2 : 256;
        glia_node *nodes = realloc(tape->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes)
            return glia_seterr(GLIA_STATUS_OUT_OF_MEMORY, "autograd: no host memory for the tape");
        tape->nodes = nodes;
        tape->cap = cap;
    }
    glia_node *nd = &tape->nodes[tape->n++];
    memset(nd, 0, sizeof *nd);
    nd->backward = fn;
    nd->out = glia_tensor_retain(out);
    for (int i = 0; i < nin && i < 4; i++)
        nd->in[i] = glia_tensor_retain(in[i]);
    out->requires_grad = 1;
    out->is_leaf = 0;
    if (node)
        *node = nd;
    return GLIA_STATUS_OK;
}

void glia_tape_gradonly(glia_node *nd, unsigned mask)
{
    for (int i = 0; i < 5; i++) {
        glia_tensor *t = i < 4 ? nd->in[i] : nd->out;
        unsigned bit = i < 4 ? 1u << i : GLIA_NODE_OUT;
        if (t && (mask & bit) && !(nd->gradonly & bit)) {
            t->gradonly_refs++;
            nd->gradonly |= bit;
        }
    }
}

void glia_tape_done_reading(glia_node *nd, unsigned mask)
{
    glia_tape_gradonly(nd, mask);
    for (int i = 0; i < 5; i++) {
        glia_tensor *t = i < 4 ? nd->in[i] : nd->out;
        if (t && (mask & (i < 4 ? 1u << i : GLIA_NODE_OUT)))
            glia_tensor_drop_unread(t);
    }
}

static void slot_release(glia_node *nd, glia_tensor **t, unsigned bit)
{
    if (*t && (nd->gradonly & bit))
        (*t)->gradonly_refs--;
    glia_tensor_free(*t);
    *t = NULL;
}

static void node_release(glia_node *nd)
{
    slot_release(nd, &nd->out, GLIA_NODE_OUT);
    for (int i = 0; i < 4; i++) {
        slot_release(nd, &nd->in[i], 1u << i);
        glia_tensor_free(nd->saved[i]);
        nd->saved[i] = NULL;
    }
}

void glia_tape_clear(glia_device *dev)
{
    if (!dev)
        return;
    /* newest first, so scratch gradients of intermediates are dropped before their producers */
    for (int i = dev->tape.n - 1; i >= 0; i--) {
        glia_node *nd = &dev->tape.nodes[i];
        if (!nd->out)
            continue;   /* released by backward already */
        if (!nd->out->is_leaf) {
            glia_tensor_free(nd->out->grad);
            nd->out->grad = NULL;
        }
        node_release(nd);
    }
    dev->tape.n = 0;
}

glia_status glia_grad_accum(glia_tensor *t, glia_tensor *g)
{
    if (!t || !t->requires_grad)
        return GLIA_STATUS_OK;
    if (!t->grad) {
        t->grad = glia_tensor_retain(g);
        return GLIA_STATUS_OK;
    }
    if (t->grad->refs > 1 || t->grad->storage->refs > 1 || t->grad->storage == g->storage) {
        /* shared with another tensor or a view of one (reshape's backward hands out
         * views of the incoming gradient): add out of place, never into shared storage */
        glia_tensor *sum;
        glia_status s = glia_tensor_axpby(1.0f, t->grad, 1.0f, g, &sum);
        if (s != GLIA_STATUS_OK)
            return s;
        glia_tensor_free(t->grad);
        t->grad = sum;
        return GLIA_STATUS_OK;
    }
    return glia_axpbyz(t->dev, (size_t)t->numel, 1.0f, glia_view(g), 1.0f, glia_view(t->grad),
                       glia_view(t->grad));
}

/* A leaf taking part in node nd's gradient, as a hook sees it. */
static int hooked_leaf(const glia_tensor *t) { return t && t->is_leaf && t->requires_grad; }

static void mark_leaves(glia_tape *tape)
{
    /* newest first, so each leaf ends with its oldest use: backward reaches it last */
    for (int i = tape->n - 1; i >= 0; i--)
        for (int j = 0; j < 4; j++)
            if (hooked_leaf(tape->nodes[i].in[j]))
                tape->nodes[i].in[j]->ready_at = i;
}

static void tell_ready(glia_node *nd, int i, const glia_backward_hooks *h)
{
    for (int j = 0; j < 4; j++) {
        glia_tensor *t = nd->in[j];
        if (hooked_leaf(t) && t->ready_at == i) {
            t->ready_at = -1;   /* once, though a node may take a leaf twice */
            h->leaf_ready(h->user, t);
        }
    }
}

glia_status glia_backward_hooked(glia_tensor *loss, const glia_backward_hooks *h)
{
    glia_status s = glia_check_tensor(loss, "glia_backward: loss");
    if (s != GLIA_STATUS_OK)
        return s;
    if (loss->numel != 1)
        return glia_seterr(GLIA_STATUS_SHAPE_MISMATCH,
                           "glia_backward: loss has %lld elements; it must have one",
                           (long long)loss->numel);
    if (!loss->requires_grad)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_backward: loss does not require grad (no parameter requires grad, "
                           "or grad mode was off)");
    glia_device *dev = loss->dev;
    glia_tensor *one;
    if ((s = glia_tensor_full(dev, loss->ndim, loss->shape, 1.0f, &one)) != GLIA_STATUS_OK)
        return s;
    s = glia_grad_accum(loss, one);
    glia_tensor_free(one);
    if (h && h->leaf_ready)
        mark_leaves(&dev->tape);
    /* grad mode off while differentiating: backward ops record nothing */
    int mode = glia_grad_mode(dev, 0);
    for (int i = dev->tape.n - 1; i >= 0 && s == GLIA_STATUS_OK; i--) {
        glia_node *nd = &dev->tape.nodes[i];
        glia_tensor *g = nd->out->grad;
        if (g) /* else the loss does not depend on this node */
            s = nd->backward(nd, g);
        if (!nd->out->is_leaf) {
            glia_tensor_free(nd->out->grad);
            nd->out->grad = NULL;
        }
        if (s == GLIA_STATUS_OK && h && h->leaf_ready)
            tell_ready(nd, i, h);
        if (h && h->step)
            h->step(h->user);
        /* every consumer of this node's tensors came later on the tape and is
         * done: what it saved can go now, as PyTorch frees saved tensors, so the
         * backward pass does not hold every activation to its end */
        node_release(nd);
    }
    glia_grad_mode(dev, mode);
    glia_tape_clear(dev);
    return s;
}

glia_status glia_backward(glia_tensor *loss) { return glia_backward_hooked(loss, NULL); }

glia_status glia_grad_write_(glia_tensor *leaf, const float *src)
{
    glia_tensor *g = leaf->grad;
    if (g->refs == 1 && g->storage->refs == 1)
        return glia_tensor_write(g, src, (size_t)g->numel);
    /* a gradient shared with another tensor (add's backward hands one tensor
     * to both inputs) gets storage of its own, so the other keeps its values */
    glia_tensor *own = NULL;
    glia_status s = glia_tensor_from_host(leaf->dev, g->ndim, g->shape, src, &own);
    if (s == GLIA_STATUS_OK) {
        glia_tensor_free(g);
        leaf->grad = own;
    }
    return s;
}

glia_status glia_tensor_set_requires_grad(glia_tensor *t, int requires_grad)
{
    glia_status s = glia_check_tensor(t, "glia_tensor_set_requires_grad");
    if (s != GLIA_STATUS_OK)
        return s;
    if (!t->is_leaf)
        return glia_seterr(GLIA_STATUS_INVALID_ARGUMENT,
                           "glia_tensor_set_requires_grad: only leaf tensors (made by the user) can change it");
    t->requires_grad = requires_grad != 0;
    return GLIA_STATUS_OK;
}

int glia_tensor_requires_grad(const glia_tensor *t) { return t ? t->requires_grad : 0; }

glia_tensor *glia_tensor_grad(const glia_tensor *t) { return t && t->is_leaf ? t->grad : NULL; }

void glia_tensor_zero_grad(glia_tensor *t)
{
    if (!t)
        return;
    glia_tensor_free(t->grad);
    t->grad = NULL;
}
