"""Reference values for elite-trade's PCA factor risk model, computed independently with numpy.

Input: the same 250 daily returns x 20 assets as gen_portfolio.py (the first 251 adjusted closes of
2010 of the 20 S&P 500 stocks in collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz).
Outputs (pca_golden.json): the eigenvalues of the maximum-likelihood sample covariance
(X'X / T of the centered returns), largest first, from numpy.linalg.eigh, and for k = 3 the factor
covariance L'L + D (L = the 3 leading eigenvectors scaled by the square roots of their eigenvalues,
D = the sample variances L leaves unexplained).
Run: python gen_pca.py (numpy 2.4.6).
"""
import csv, gzip, json, os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "../../../collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz")
closes = {}
for r in csv.DictReader(gzip.open(path, "rt")):
    closes.setdefault(r["symbol"], []).append((r["ts"], float(r["close"])))
syms = sorted(closes)
px = np.array([[c for _, c in sorted(closes[s])[:251]] for s in syms]).T
rets = px[1:] / px[:-1] - 1.0
x = rets - rets.mean(axis=0)
s = x.T @ x / x.shape[0]
vals, vecs = np.linalg.eigh(s)
order = np.argsort(vals)[::-1]
vals, vecs = vals[order], vecs[:, order]
k = 3
l = vecs[:, :k] * np.sqrt(vals[:k])
d = np.diag(s) - (l ** 2).sum(axis=1)
fc = l @ l.T + np.diag(d)
json.dump({"eigenvalues": vals.tolist(), "factor3_covariance": fc.tolist()},
          open(os.path.join(here, "pca_golden.json"), "w"))
print("top eigenvalues", vals[:5])
