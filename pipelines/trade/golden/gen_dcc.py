"""Reference correlation forecasts for elite-trade's dcc.rs, on the daily log returns in percent of
AAPL, JPM, XOM and KO (collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz, 3269 returns):

1. DCC(1,1), two-step (Engle 2002), written here independently: each series' GARCH(1,1) with a
   constant mean and normal errors from PyPI `arch` 8.0.0 (SLSQP, ftol 1e-12), its standardized
   residuals z = (r - mu) / sigma (arch's conditional volatility); then (a, b) maximizing the
   correlation log-likelihood -1/2 sum(ln|R_t| + z_t' R_t^-1 z_t - z_t' z_t) with numpy's
   slogdet/solve and scipy's SLSQP (a, b >= 0, a + b <= 0.9999; ftol 1e-14), from (0.02, 0.95).
   Forecasts: R_{T+1} from the recursion and R_{T+h} = (1 - (a+b)^(h-1)) Rbar + (a+b)^(h-1) R_{T+1}.
2. RiskMetrics EWMA (lambda 0.94) covariance forecast with arch's backcast start (numpy loop).

Outputs (dcc_golden.json): the symbols, the standardized residuals' first rows (a check that both
sides' step one agree), a, b, the log-likelihood, R_{T+1} and R_{T+10}, and the EWMA covariance.
Run: python gen_dcc.py  (arch 8.0.0, numpy, scipy, pandas).
"""
import gzip, json, os
import numpy as np
import pandas as pd
from arch import arch_model
from scipy.optimize import minimize

here = os.path.dirname(os.path.abspath(__file__))
fix = os.path.join(here, "../../../collectors/fixtures/bars")
syms = ["AAPL", "JPM", "XOM", "KO"]
df = pd.read_csv(gzip.open(os.path.join(fix, "sp500_20_1d_2010_2022.csv.gz"), "rt"))
px = df.pivot(index="ts", columns="symbol", values="close").sort_index()[syms].dropna()
r = 100 * np.log(px).diff().iloc[1:].to_numpy()
T, N = r.shape

z = np.empty_like(r)
garch = []
for i in range(N):
    f = arch_model(r[:, i], mean="Constant", vol="GARCH", p=1, q=1, dist="normal").fit(
        disp="off", options={"ftol": 1e-12, "maxiter": 2000})
    z[:, i] = (r[:, i] - f.params["mu"]) / f.conditional_volatility
    garch.append({k: float(v) for k, v in f.params.items()})

qbar = z.T @ z / T


def corr(q):
    d = 1 / np.sqrt(np.diag(q))
    return q * np.outer(d, d)


def negll(p, keep=False):
    a, b = p
    q = qbar.copy()
    ll = 0.0
    for t in range(T):
        if t > 0:
            q = (1 - a - b) * qbar + a * np.outer(z[t - 1], z[t - 1]) + b * q
        R = corr(q)
        sign, logdet = np.linalg.slogdet(R)
        ll -= 0.5 * (logdet + z[t] @ np.linalg.solve(R, z[t]) - z[t] @ z[t])
    return (-ll, q) if keep else -ll


res = minimize(negll, [0.02, 0.95], method="SLSQP", bounds=[(0, 1), (0, 1)],
               constraints=[{"type": "ineq", "fun": lambda p: 0.9999 - p[0] - p[1]}],
               options={"ftol": 1e-14, "maxiter": 1000})
a, b = res.x
nll, q = negll(res.x, keep=True)
q1 = (1 - a - b) * qbar + a * np.outer(z[-1], z[-1]) + b * q
R1, Rbar = corr(q1), corr(qbar)
R10 = (1 - (a + b) ** 9) * Rbar + (a + b) ** 9 * R1

# EWMA
tau = min(T, 75)
w = 0.94 ** np.arange(tau)
S = sum(wk * np.outer(x, x) for wk, x in zip(w, r[:tau])) / w.sum()
for x in r:
    S = 0.94 * S + 0.06 * np.outer(x, x)

json.dump({
    "symbols": syms, "rows": T, "garch": garch, "z_head": z[:5].tolist(),
    "a": float(a), "b": float(b), "loglik": float(-nll),
    "R1": R1.tolist(), "R10": R10.tolist(), "ewma": S.tolist(),
}, open(os.path.join(here, "dcc_golden.json"), "w"))
print("wrote dcc_golden.json", a, b, -nll)
