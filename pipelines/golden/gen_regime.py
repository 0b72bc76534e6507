"""Reference values for elite-trade's regimes (pipelines/src/regime/*.rs), from independent implementations:

1. Gaussian HMM (regime/hmm.rs) against PyPI `hmmlearn` 0.3.3 `GaussianHMM(covariance_type="diag")`
   with its default priors (covars_prior 1e-2, covars_weight 1, startprob/transmat priors 1),
   on GOOG's daily features (collectors/fixtures/bars/GOOG_1d.csv): r_t = 100 ln(c_t / c_{t-1}) and
   v_t = sqrt(mean of r^2 over the last 20 returns). Both start from the same initial parameters
   (written here with numpy: rows sorted by v, split into K groups as np.array_split does; group
   means and variances; uniform start; 0.95 on the transition diagonal) and stop by hmmlearn's rule
   (n_iter 500, tol 1e-6 on the log-likelihood gain). States are then ordered by the mean of v.
   Outputs: the fitted parameters, log-likelihood, iterations, Viterbi path, and filtered state
   probabilities (hmmlearn's posterior of the last row of a prefix X[:t+1]) at a few t.
2. The market stress index (regime/stress.rs) with pandas on the 20 stocks of
   collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz: the four components and their expanding
   z-scores (min 252 observations), averaged.
3. The rule-based classifier (regime/rules.rs) with pandas on GOOG: SMA 50/200 trend and the
   expanding percentile rank of 21-day volatility.

Run: python gen_regime.py  (hmmlearn 0.3.3, numpy, pandas).
"""
import csv, gzip, json, os
import numpy as np
import pandas as pd
from hmmlearn.hmm import GaussianHMM

here = os.path.dirname(os.path.abspath(__file__))
fix = os.path.join(here, "../../collectors/fixtures/bars")
out = {}

# ---- 1. HMM -------------------------------------------------------------------------------------
rows = list(csv.DictReader(open(os.path.join(fix, "GOOG_1d.csv"))))
c = np.array([float(r["close"]) for r in rows])
r = 100 * np.diff(np.log(c))
W = 20
v = np.sqrt(pd.Series(r ** 2).rolling(W).mean().to_numpy())
X = np.column_stack([r[W - 1:], v[W - 1:]])
out["hmm"] = {}
for K in (2, 3):
    order = np.argsort(X[:, 1], kind="stable")
    groups = np.array_split(order, K)
    means0 = np.array([X[g].mean(axis=0) for g in groups])
    covars0 = np.array([X[g].var(axis=0) for g in groups])
    trans0 = np.full((K, K), 0.05 / (K - 1))
    np.fill_diagonal(trans0, 0.95)
    m = GaussianHMM(n_components=K, covariance_type="diag", n_iter=500, tol=1e-6, init_params="",
                    params="stmc", implementation="log")
    m.startprob_ = np.full(K, 1.0 / K)
    m.transmat_ = trans0
    m.means_ = means0
    m.covars_ = covars0
    m.fit(X)
    perm = np.argsort(m.means_[:, 1], kind="stable")
    inv = np.empty(K, int)
    inv[perm] = np.arange(K)
    filtered = {}
    for t in (0, 49, 500, 1000, len(X) - 1):
        filtered[str(t)] = m.predict_proba(X[: t + 1])[-1][perm].tolist()
    out["hmm"][str(K)] = {
        "init_means": means0.tolist(),
        "init_covars": covars0.tolist(),
        "startprob": m.startprob_[perm].tolist(),
        "transmat": m.transmat_[np.ix_(perm, perm)].tolist(),
        "means": m.means_[perm].tolist(),
        "covars": np.array([np.diag(cv) for cv in m.covars_])[perm].tolist(),
        "loglik": float(m.score(X)),
        "iterations": int(m.monitor_.iter),
        "viterbi": inv[m.predict(X)].tolist(),
        "filtered": filtered,
    }

# ---- 2. stress index ----------------------------------------------------------------------------
df = pd.read_csv(gzip.open(os.path.join(fix, "sp500_20_1d_2010_2022.csv.gz"), "rt"))
px = df.pivot(index="ts", columns="symbol", values="close").sort_index().dropna()
lr = np.log(px).diff().iloc[1:]
ew = lr.mean(axis=1)
level = np.exp(ew.cumsum())
vol = ew.rolling(21).std(ddof=1) * np.sqrt(252)
n = lr.shape[1]
rc = lr.rolling(63).corr()
corr = rc.groupby(level=0).apply(
    lambda m: (m.to_numpy().sum() - np.trace(m.to_numpy())) / (n * (n - 1)))
disp = lr.std(axis=1, ddof=1).rolling(21).mean()
dd = 1 - level / level.cummax()
comps = pd.DataFrame({"vol": vol, "corr": corr, "dispersion": disp, "drawdown": dd})
z = (comps - comps.expanding(min_periods=252).mean()) / comps.expanding(min_periods=252).std(ddof=1)
stress = z.mean(axis=1, skipna=False)
out["stress"] = {
    "dates": list(lr.index),
    "components": {k: [None if np.isnan(x) else float(x) for x in comps[k]] for k in comps},
    "index": [None if np.isnan(x) else float(x) for x in stress],
}

# ---- 3. rules -----------------------------------------------------------------------------------
cs = pd.Series(c)
sma50, sma200 = cs.rolling(50).mean(), cs.rolling(200).mean()
rr = np.log(cs).diff()
vol21 = rr.rolling(21).std(ddof=1)
pct = vol21.expanding(min_periods=252).rank(pct=True)
trend = np.where((cs > sma200) & (sma50 > sma200), 0, np.where((cs < sma200) & (sma50 < sma200), 2, 1))
volst = np.where(pct > 0.8, 2, np.where(pct < 0.2, 0, 1))
state = np.where(sma200.isna() | pct.isna(), -1, trend * 3 + volst)
out["rules"] = {"state": state.tolist(),
                "vol_pct": [None if np.isnan(x) else float(x) for x in pct]}

json.dump(out, open(os.path.join(here, "regime_golden.json"), "w"))
print("wrote regime_golden.json")
