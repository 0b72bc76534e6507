#!/usr/bin/env python3
"""Generate the golden indicator files in this folder from TA-Lib (and numpy where TA-Lib has none).

Reproduce (from the repository root, after `tests/dev setup`):

    ~/.cache/elite/venv/bin/pip install TA-Lib==0.8.2        # wheel bundles the TA-Lib C library 0.8.1
    ~/.cache/elite/venv/bin/python pipelines/golden/gen_talib.py

Every column header is an Elite indicator spec (`rsi(14)`, `macd(12,26,9).signal`) so the Rust test
parses the header, runs the indicator and compares row by row. Empty cells are TA-Lib's warm-up (NaN).
Values are written with repr() (shortest round-trip), so nothing is lost.

Which reference produced each column:
- TA-Lib 0.8.1 C library (PyPI TA-Lib 0.8.2): sma ema wma dema tema rsi macd bbands(upper/middle/lower)
  atr adx plus_di minus_di stoch willr cci mfi obv roc mom donchian(MAX/MIN) correl beta.
  Note: TA-Lib's BETA(real0, real1) is cov(r0, r1) / var(r0) (it regresses real1 on real0), so the
  beta of an asset on a benchmark is BETA(benchmark, asset).
- Formula over TA-Lib outputs: bbands .percent_b = (c - lower)/(upper - lower), .bandwidth =
  (upper - lower)/middle; keltner = EMA(close, n) +- m * ATR(high, low, close, k); donchian .middle.
- numpy (no TA-Lib function): volatility(n) = sample std (ddof=1) of log returns over n bars;
  zscore(n) = (x - mean) / population std over the last n values; vwap = cumulative sum of
  typical price * volume / cumulative volume, restarting each UTC date.
"""
import csv, gzip, os, sys
import numpy as np
import talib

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "collectors", "fixtures", "bars")


def load_ohlcv(path, limit=None):
    rows = list(csv.DictReader(open(path)))
    if limit:
        rows = rows[:limit]
    ts = [r["ts"] for r in rows]
    o, h, l, c, v = (np.array([float(r[k]) for r in rows]) for k in ("open", "high", "low", "close", "volume"))
    return ts, o, h, l, c, v


def rolling(x, n, f):
    out = np.full(len(x), np.nan)
    for i in range(n - 1, len(x)):
        out[i] = f(x[i - n + 1 : i + 1])
    return out


def ohlcv_columns(ts, o, h, l, c, v):
    cols = {}
    for n in (5, 20):
        cols[f"sma({n})"] = talib.SMA(c, n)
        cols[f"ema({n})"] = talib.EMA(c, n)
        cols[f"wma({n})"] = talib.WMA(c, n)
    cols["dema(20)"] = talib.DEMA(c, 20)
    cols["tema(20)"] = talib.TEMA(c, 20)
    for n in (2, 14):
        cols[f"rsi({n})"] = talib.RSI(c, n)
    line, sig, hist = talib.MACD(c, 12, 26, 9)
    cols["macd(12,26,9).line"], cols["macd(12,26,9).signal"], cols["macd(12,26,9).hist"] = line, sig, hist
    up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    cols["bbands(20,2).upper"], cols["bbands(20,2).middle"], cols["bbands(20,2).lower"] = up, mid, lo
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["bbands(20,2).percent_b"] = (c - lo) / (up - lo)
        cols["bbands(20,2).bandwidth"] = (up - lo) / mid
    cols["atr(14)"] = talib.ATR(h, l, c, 14)
    cols["adx(14).adx"] = talib.ADX(h, l, c, 14)
    cols["adx(14).plus_di"] = talib.PLUS_DI(h, l, c, 14)
    cols["adx(14).minus_di"] = talib.MINUS_DI(h, l, c, 14)
    k, d = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    cols["stoch(14,3,3).k"], cols["stoch(14,3,3).d"] = k, d
    cols["willr(14)"] = talib.WILLR(h, l, c, 14)
    cols["cci(14)"] = talib.CCI(h, l, c, 14)
    cols["mfi(14)"] = talib.MFI(h, l, c, v, 14)
    cols["obv"] = talib.OBV(c, v)
    cols["roc(10)"] = talib.ROC(c, 10)
    cols["mom(10)"] = talib.MOM(c, 10)
    lr = np.concatenate([[np.nan], np.diff(np.log(c))])
    vol = np.full(len(c), np.nan)
    for i in range(20, len(c)):
        vol[i] = np.std(lr[i - 19 : i + 1], ddof=1)
    cols["volatility(20)"] = vol
    cols["zscore(20)"] = rolling(c, 20, lambda w: (w[-1] - w.mean()) / w.std() if w.std() > 0 else np.nan)
    day = [t[:10] for t in ts]
    tp = (h + l + c) / 3.0
    vw = np.full(len(c), np.nan)
    pv = vv = 0.0
    for i in range(len(c)):
        if i == 0 or day[i] != day[i - 1]:
            pv = vv = 0.0
        pv += tp[i] * v[i]
        vv += v[i]
        vw[i] = pv / vv if vv > 0 else np.nan
    cols["vwap"] = vw
    mx, mn = talib.MAX(h, 20), talib.MIN(l, 20)
    cols["donchian(20).upper"], cols["donchian(20).lower"] = mx, mn
    cols["donchian(20).middle"] = (mx + mn) / 2.0
    e, a = talib.EMA(c, 20), talib.ATR(h, l, c, 10)
    cols["keltner(20,10,2).upper"], cols["keltner(20,10,2).middle"] = e + 2.0 * a, e
    cols["keltner(20,10,2).lower"] = e - 2.0 * a
    return cols


def write(name, ts, cols):
    path = os.path.join(HERE, name)
    with gzip.open(path, "wt", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ts"] + list(cols))
        for i, t in enumerate(ts):
            w.writerow([t] + ["" if np.isnan(cols[k][i]) else repr(float(cols[k][i])) for k in cols])
    print(f"{name}: {len(ts)} rows x {len(cols)} columns", file=sys.stderr)


def main():
    print(f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode()}), numpy {np.__version__}", file=sys.stderr)
    for src, out, limit in (("GOOG_1d.csv", "GOOG_1d.talib.csv.gz", None), ("EURUSD_1h.csv", "EURUSD_1h.talib.csv.gz", 2000)):
        ts, o, h, l, c, v = load_ohlcv(os.path.join(FIX, src), limit)
        write(out, ts, ohlcv_columns(ts, o, h, l, c, v))
    rows = list(csv.DictReader(open(os.path.join(HERE, "MSFT_AAPL_SP500_1d.csv"))))
    ts = [r["ts"] for r in rows]
    msft, aapl, spx = (np.array([float(r[k]) for r in rows]) for k in ("MSFT", "AAPL", "SP500"))
    cols = {
        "beta(20)": talib.BETA(spx, msft, 20),  # MSFT on the S&P 500 (see the note above)
        "beta(60)": talib.BETA(spx, msft, 60),
        "correl(30)": talib.CORREL(msft, spx, 30),
    }
    write("MSFT_SP500_1d.talib.csv.gz", ts, cols)


if __name__ == "__main__":
    main()
