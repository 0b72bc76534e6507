"""Reference values for elite-trade's portfolio module, computed independently.

Input: the first 251 daily adjusted closes of 2010 of the 20 S&P 500 stocks in
collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz -> 250 simple returns x 20 assets.
Outputs (portfolio_golden.json):
- Ledoit-Wolf shrunk covariance and shrinkage from scikit-learn's LedoitWolf (assume_centered=False);
- long-only minimum-variance weights with a 15% cap on that covariance, from scipy SLSQP;
- equal-risk-contribution weights from scipy SLSQP (risk contributions equal).
Run: python gen_portfolio.py (scikit-learn 1.9.1, scipy 1.17.1).
"""
import csv, gzip, json, os
import numpy as np
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "../../../collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz")
closes = {}
for r in csv.DictReader(gzip.open(path, "rt")):
    closes.setdefault(r["symbol"], []).append((r["ts"], float(r["close"])))
syms = sorted(closes)
px = np.array([[c for _, c in sorted(closes[s])[:251]] for s in syms]).T
rets = px[1:] / px[:-1] - 1.0
lw = LedoitWolf().fit(rets)
cov = lw.covariance_
n = len(syms)
cons = [{"type": "eq", "fun": lambda w: w.sum() - 1.0}]
mv = minimize(lambda w: w @ cov @ w, np.full(n, 1.0 / n), method="SLSQP",
              bounds=[(0.0, 0.15)] * n, constraints=cons, options={"ftol": 1e-15, "maxiter": 1000})
def erc(w):
    rc = w * (cov @ w)
    return ((rc[:, None] - rc[None, :]) ** 2).sum() * 1e8
rp = minimize(erc, np.full(n, 1.0 / n), method="SLSQP", bounds=[(1e-6, 1.0)] * n,
              constraints=cons, options={"ftol": 1e-20, "maxiter": 2000})
json.dump({"symbols": syms, "returns": rets.tolist(), "lw_covariance": cov.tolist(),
           "lw_shrinkage": lw.shrinkage_, "min_variance_cap15": mv.x.tolist(),
           "min_variance_value": float(mv.x @ cov @ mv.x), "erc": (rp.x / rp.x.sum()).tolist()},
          open(os.path.join(here, "portfolio_golden.json"), "w"))
print(syms, lw.shrinkage_, mv.success, rp.success)
