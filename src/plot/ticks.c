/* Round tick values for plot axes (Heckbert's "nice numbers"): a reader
 * interpolates between 0.2 and 0.4 at a glance, not between 0.173 and 0.346. */
#include <math.h>
#include "plot/plot_priv.h"

glia_ticks glia_nice_ticks_(double lo, double hi, int want)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi == lo) { /* one value: an interval around it, so it sits on the axis */
        double pad = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    if (want < 1)
        want = 1;
    double raw = (hi - lo) / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    /* the small tolerance keeps a limit that is already a multiple (0.6 / 0.2 = 2.9999...) from growing a tick */
    double k0 = floor(lo / step + 1e-9), k1 = ceil(hi / step - 1e-9);
    glia_ticks t;
    t.step = step;
    t.first = k0 * step + 0.0; /* + 0.0: no "-0" label */
    t.last = k1 * step + 0.0;
    t.count = (int)(k1 - k0) + 1;
    int d = -(int)floor(log10(step) + 1e-9);
    t.decimals = d > 0 ? d : 0;
    return t;
}
