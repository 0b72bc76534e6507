#!/usr/bin/env python3
"""Reference values of Elite's `alpha158` feature set, written independently in numpy from the
Alpha158 definitions of Microsoft qlib (qlib/contrib/data/loader.py, Alpha158DL.get_feature_config),
over collectors/fixtures/bars/GOOG_1d.csv.

    ~/.cache/elite/venv/bin/python pipelines/golden/gen_alpha158.py

Differences from qlib, stated (Elite's conventions, mirrored here):
- a value is produced only once its whole window is available (qlib's rolling operators use
  min_periods=1 and give partial-window values);
- VWAP0 uses the typical price (h+l+c)/3, as bars carry no VWAP;
- a value that is not finite (0/0, a flat window's correlation) is left empty.
"""
import csv, gzip, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(HERE, "..", "..", "collectors", "fixtures", "bars", "GOOG_1d.csv"))))
o, h, l, c, v = (np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close", "volume"))
n = len(c)
E = 1e-12
cols = {}


def put(name, f, need):
    out = np.full(n, np.nan)
    for t in range(need - 1, n):
        with np.errstate(all="ignore"):
            val = f(t)
        out[t] = val if np.isfinite(val) else np.nan
    cols[name] = out


put("KMID", lambda t: (c[t] - o[t]) / o[t], 1)
put("KLEN", lambda t: (h[t] - l[t]) / o[t], 1)
put("KMID2", lambda t: (c[t] - o[t]) / (h[t] - l[t] + E), 1)
put("KUP", lambda t: (h[t] - max(o[t], c[t])) / o[t], 1)
put("KUP2", lambda t: (h[t] - max(o[t], c[t])) / (h[t] - l[t] + E), 1)
put("KLOW", lambda t: (min(o[t], c[t]) - l[t]) / o[t], 1)
put("KLOW2", lambda t: (min(o[t], c[t]) - l[t]) / (h[t] - l[t] + E), 1)
put("KSFT", lambda t: (2 * c[t] - h[t] - l[t]) / o[t], 1)
put("KSFT2", lambda t: (2 * c[t] - h[t] - l[t]) / (h[t] - l[t] + E), 1)
put("OPEN0", lambda t: o[t] / c[t], 1)
put("HIGH0", lambda t: h[t] / c[t], 1)
put("LOW0", lambda t: l[t] / c[t], 1)
put("VWAP0", lambda t: ((h[t] + l[t] + c[t]) / 3.0) / c[t], 1)


def w(x, t, d):
    return x[t - d + 1 : t + 1]


def slope(y):
    x = np.arange(len(y), dtype=float)
    xm, ym = x.mean(), y.mean()
    return ((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum()


def rsq(y):
    x = np.arange(len(y), dtype=float)
    xm, ym = x.mean(), y.mean()
    sxy = ((x - xm) * (y - ym)).sum()
    return sxy * sxy / (((x - xm) ** 2).sum() * ((y - ym) ** 2).sum())


def resi(y):
    x = np.arange(len(y), dtype=float)
    b = slope(y)
    a = y.mean() - b * x.mean()
    return y[-1] - (a + b * x[-1])


def corr(a, b):
    am, bm = a - a.mean(), b - b.mean()
    return (am * bm).sum() / np.sqrt((am * am).sum() * (bm * bm).sum())


def rank(y):
    x = y[-1]
    return ((y < x).sum() + ((y == x).sum() + 1) / 2.0) / len(y)


lv = np.log(v + 1)
prev = lambda x: np.concatenate([[np.nan], x[:-1]])
cp, vp = prev(c), prev(v)
dc, dv = c - cp, v - vp
rc = c / cp
lvr = np.log(v / vp + 1)
wv = np.abs(c / cp - 1) * v

for d in (5, 10, 20, 30, 60):
    put(f"ROC{d}", lambda t, d=d: c[t - d] / c[t], d + 1)
    put(f"MA{d}", lambda t, d=d: w(c, t, d).mean() / c[t], d)
    put(f"STD{d}", lambda t, d=d: w(c, t, d).std(ddof=1) / c[t], d)
    put(f"BETA{d}", lambda t, d=d: slope(w(c, t, d)) / c[t], d)
    put(f"RSQR{d}", lambda t, d=d: rsq(w(c, t, d)), d)
    put(f"RESI{d}", lambda t, d=d: resi(w(c, t, d)) / c[t], d)
    put(f"MAX{d}", lambda t, d=d: w(h, t, d).max() / c[t], d)
    put(f"MIN{d}", lambda t, d=d: w(l, t, d).min() / c[t], d)
    put(f"QTLU{d}", lambda t, d=d: np.quantile(w(c, t, d), 0.8) / c[t], d)
    put(f"QTLD{d}", lambda t, d=d: np.quantile(w(c, t, d), 0.2) / c[t], d)
    put(f"RANK{d}", lambda t, d=d: rank(w(c, t, d)), d)
    put(f"RSV{d}", lambda t, d=d: (c[t] - w(l, t, d).min()) / (w(h, t, d).max() - w(l, t, d).min() + E), d)
    put(f"IMAX{d}", lambda t, d=d: (np.argmax(w(h, t, d)) + 1) / d, d)
    put(f"IMIN{d}", lambda t, d=d: (np.argmin(w(l, t, d)) + 1) / d, d)
    put(f"IMXD{d}", lambda t, d=d: (np.argmax(w(h, t, d)) - np.argmin(w(l, t, d))) / d, d)
    put(f"CORR{d}", lambda t, d=d: corr(w(c, t, d), w(lv, t, d)), d)
    put(f"CORD{d}", lambda t, d=d: corr(w(rc, t, d), w(lvr, t, d)), d + 1)
    put(f"CNTP{d}", lambda t, d=d: (w(dc, t, d) > 0).mean(), d + 1)
    put(f"CNTN{d}", lambda t, d=d: (w(dc, t, d) < 0).mean(), d + 1)
    put(f"CNTD{d}", lambda t, d=d: (w(dc, t, d) > 0).mean() - (w(dc, t, d) < 0).mean(), d + 1)
    put(f"SUMP{d}", lambda t, d=d: np.maximum(w(dc, t, d), 0).sum() / (np.abs(w(dc, t, d)).sum() + E), d + 1)
    put(f"SUMN{d}", lambda t, d=d: np.maximum(-w(dc, t, d), 0).sum() / (np.abs(w(dc, t, d)).sum() + E), d + 1)
    put(f"SUMD{d}", lambda t, d=d: (np.maximum(w(dc, t, d), 0).sum() - np.maximum(-w(dc, t, d), 0).sum()) / (np.abs(w(dc, t, d)).sum() + E), d + 1)
    put(f"VMA{d}", lambda t, d=d: w(v, t, d).mean() / (v[t] + E), d)
    put(f"VSTD{d}", lambda t, d=d: w(v, t, d).std(ddof=1) / (v[t] + E), d)
    put(f"WVMA{d}", lambda t, d=d: w(wv, t, d).std(ddof=1) / (w(wv, t, d).mean() + E), d + 1)
    put(f"VSUMP{d}", lambda t, d=d: np.maximum(w(dv, t, d), 0).sum() / (np.abs(w(dv, t, d)).sum() + E), d + 1)
    put(f"VSUMN{d}", lambda t, d=d: np.maximum(-w(dv, t, d), 0).sum() / (np.abs(w(dv, t, d)).sum() + E), d + 1)
    put(f"VSUMD{d}", lambda t, d=d: (np.maximum(w(dv, t, d), 0).sum() - np.maximum(-w(dv, t, d), 0).sum()) / (np.abs(w(dv, t, d)).sum() + E), d + 1)

assert len(cols) == 158, len(cols)
LIMIT = 800  # the first 800 bars (2004-08-19 … 2007-10-23) keep the file small; windows are <= 61 bars
with gzip.open(os.path.join(HERE, "GOOG_1d.alpha158.csv.gz"), "wt", newline="") as f:
    wr = csv.writer(f, lineterminator="\n")
    wr.writerow(["ts"] + list(cols))
    for i, r in enumerate(rows[:LIMIT]):
        wr.writerow([r["ts"]] + ["" if np.isnan(cols[k][i]) else repr(float(cols[k][i])) for k in cols])
print(f"GOOG_1d.alpha158.csv.gz: {min(n, LIMIT)} rows x {len(cols)} features (numpy {np.__version__})", file=sys.stderr)
