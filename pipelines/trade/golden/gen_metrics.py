"""Reference values for elite-trade's performance and risk metrics, from empyrical and quantstats.

Inputs: real daily returns: GOOG's closes (collectors/fixtures/bars/GOOG_1d.csv, 2147 returns),
and the first of the 20 S&P 500 stocks in sp500_20_1d_2010_2022.csv.gz (AAPL, 3271 returns).
Outputs (metrics_golden.json), per series:
- empyrical (PyPI empyrical-reloaded): sharpe_ratio, sortino_ratio, max_drawdown, annual_return,
  calmar_ratio, value_at_risk (cutoff 0.05), conditional_value_at_risk (cutoff 0.05);
- quantstats: value_at_risk (parametric, 95%), win_rate, profit_factor (on the returns);
- filtered historical simulation VaR (Hull & White 1998, EWMA lambda 0.94, seeded with the mean
  square of the first 20 returns), implemented here independently in numpy from the paper's
  recipe.
Run: python gen_metrics.py  (empyrical-reloaded 0.7.1, quantstats 0.0.86, numpy, pandas).
"""
import csv, gzip, json, os
import numpy as np
import pandas as pd
import empyrical as ep
import quantstats as qs

here = os.path.dirname(os.path.abspath(__file__))
fx = os.path.join(here, "../../../collectors/fixtures/bars")

def goog():
    rows = list(csv.DictReader(open(os.path.join(fx, "GOOG_1d.csv"))))
    idx = pd.to_datetime([r["ts"] for r in rows])
    return pd.Series([float(r["close"]) for r in rows], index=idx)

def aapl():
    rows = [r for r in csv.DictReader(gzip.open(os.path.join(fx, "sp500_20_1d_2010_2022.csv.gz"), "rt"))
            if r["symbol"] == "AAPL"]
    rows.sort(key=lambda r: r["ts"])
    idx = pd.to_datetime([r["ts"][:10] for r in rows])
    return pd.Series([float(r["close"]) for r in rows], index=idx)

def fhs(r, lam=0.94):
    r = np.asarray(r)
    var = np.mean(r[:min(20, len(r))] ** 2)
    sig = np.empty(len(r))
    for i, x in enumerate(r):
        sig[i] = np.sqrt(var)
        var = lam * var + (1 - lam) * x * x
    scen = r[sig > 0] * np.sqrt(var) / sig[sig > 0]
    return -np.percentile(scen, 5)

out = {}
for name, px in [("GOOG", goog()), ("AAPL", aapl())]:
    r = px.pct_change().dropna()
    out[name] = {
        "closes": px.tolist(),
        "sharpe": ep.sharpe_ratio(r, risk_free=0, period="daily"),
        "sortino": ep.sortino_ratio(r, required_return=0, period="daily"),
        "max_drawdown": -ep.max_drawdown(r),
        "annual_return": ep.annual_return(r, period="daily"),
        "calmar": ep.calmar_ratio(r, period="daily"),
        "var_historical": -ep.value_at_risk(r, cutoff=0.05),
        "cvar_historical": -ep.conditional_value_at_risk(r, cutoff=0.05),
        "var_parametric": -qs.stats.value_at_risk(r, sigma=1, confidence=0.95, prepare_returns=False),
        "win_rate": qs.stats.win_rate(r, prepare_returns=False),
        "profit_factor": qs.stats.profit_factor(r, prepare_returns=False),
        "var_filtered_hs": fhs(r.values),
    }
    print(name, len(r), {k: v for k, v in out[name].items() if k != "closes"})
versions = {"empyrical": getattr(ep, "__version__", "?"), "quantstats": qs.__version__}
json.dump({"versions": versions, "series": out}, open(os.path.join(here, "metrics_golden.json"), "w"))
