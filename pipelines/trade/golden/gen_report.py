"""Reference values for elite-trade's report metrics (analytics.rs), from empyrical, quantstats,
pandas and scipy on real daily returns.

Inputs: the 20 S&P 500 stocks of collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz (3269
daily returns each). Series: AAPL and RRC (a large drawdown); benchmark: the equal-weight
average of the 20 stocks' daily returns.
Outputs (report_golden.json), per series:
- empyrical (PyPI empyrical-reloaded): annual_volatility, calmar_ratio, tail_ratio,
  stability_of_timeseries, omega_ratio, alpha_beta (against the benchmark);
- quantstats: skew, kurtosis, information_ratio (against the benchmark);
- the probabilistic Sharpe ratio (Bailey & Lopez de Prado 2012) and the deflated Sharpe ratio
  (Bailey & Lopez de Prado 2014), written here from the papers' formulas with scipy.stats
  (population skewness, non-excess kurtosis, per-period Sharpe), for 1 trial and for 10 trials
  whose Sharpe ratios have variance 0.0004;
- monthly returns (compounded within each calendar month) with pandas.
- statsmodels OLS (coefficients, standard errors, t-statistics, R²) of the monthly returns in
  excess of RF on the Fama-French 3 factors (collectors/fixtures/factors/ff3_monthly.csv), and the
  Treynor-Mazuy and Henriksson-Merton timing regressions.
Run: python gen_report.py  (empyrical-reloaded 0.7.1, quantstats 0.0.86, numpy, pandas, scipy, statsmodels).
"""
import csv, gzip, json, os
import numpy as np
import pandas as pd
import scipy.stats as st
import empyrical as ep
import quantstats as qs

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "../../../collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz")

closes = {}
for r in csv.DictReader(gzip.open(path, "rt")):
    closes.setdefault(r["symbol"], {})[r["ts"][:10]] = float(r["close"])
px = pd.DataFrame(closes).sort_index()
px.index = pd.to_datetime(px.index)
rets = px.pct_change().iloc[1:]
bench = rets.mean(axis=1)


def psr(r, sr_star):
    r = np.asarray(r)
    sr = r.mean() / r.std(ddof=1)
    g3 = st.skew(r, bias=True)
    g4 = st.kurtosis(r, fisher=False, bias=True)
    n = len(r)
    return float(st.norm.cdf((sr - sr_star) * np.sqrt(n - 1) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr ** 2)))


def sr0(trials, var):
    g = 0.5772156649015329
    if trials < 2:
        return 0.0
    return float(np.sqrt(var) * ((1 - g) * st.norm.ppf(1 - 1 / trials) + g * st.norm.ppf(1 - 1 / (trials * np.e))))


out = {"series": {}}
for name in ["AAPL", "RRC"]:
    r = rets[name]
    a, b = ep.alpha_beta(r, bench)
    monthly = (1 + r).groupby([r.index.year, r.index.month]).prod() - 1
    out["series"][name] = {
        "dates": [d.strftime("%Y-%m-%d") for d in r.index],
        "returns": [float(x) for x in r],
        "benchmark": [float(x) for x in bench],
        "annual_volatility": float(ep.annual_volatility(r)),
        "calmar_ratio": float(ep.calmar_ratio(r)),
        "tail_ratio": float(ep.tail_ratio(r)),
        "stability_of_timeseries": float(ep.stability_of_timeseries(r)),
        "omega_ratio": float(ep.omega_ratio(r)),
        "alpha": float(a),
        "beta": float(b),
        "skew": float(qs.stats.skew(r)),
        "kurtosis": float(qs.stats.kurtosis(r)),
        "information_ratio": float(qs.stats.information_ratio(r, bench)),
        "psr": psr(r, 0.0),
        "sr0_10_trials": sr0(10, 0.0004),
        "dsr_10_trials": psr(r, sr0(10, 0.0004)),
        "monthly": [[int(y), int(m), float(v)] for (y, m), v in monthly.items()],
    }
json.dump(out, open(os.path.join(here, "report_golden.json"), "w"))
print("wrote report_golden.json")

# Factor and timing regressions of the monthly returns (statsmodels OLS), on the Fama-French
# 3 factors shipped in collectors/fixtures/factors/ff3_monthly.csv (percent -> fractions).
import statsmodels.api as sm

ff = pd.read_csv(os.path.join(here, "../../../collectors/fixtures/factors/ff3_monthly.csv"))
ff = ff[ff["Date"].astype(str).str.len() == 6]
ff.index = pd.MultiIndex.from_tuples([(int(str(d)[:4]), int(str(d)[4:])) for d in ff["Date"]])
ff = ff[["Mkt-RF", "SMB", "HML", "RF"]].astype(float) / 100.0


def fit(y, cols):
    X = sm.add_constant(pd.DataFrame(cols))
    m = sm.OLS(y.values, X.values).fit()
    return {"coef": [float(v) for v in m.params], "se": [float(v) for v in m.bse],
            "t": [float(v) for v in m.tvalues], "r2": float(m.rsquared), "n": int(m.nobs)}


for name in ["AAPL", "RRC"]:
    r = rets[name]
    monthly = (1 + r).groupby([r.index.year, r.index.month]).prod() - 1
    both = monthly.index.intersection(ff.index)
    y = monthly.loc[both] - ff.loc[both, "RF"]
    mkt = ff.loc[both, "Mkt-RF"]
    out["series"][name]["fama_french"] = fit(y, {"mkt_rf": mkt.values, "smb": ff.loc[both, "SMB"].values, "hml": ff.loc[both, "HML"].values})
    out["series"][name]["treynor_mazuy"] = fit(y, {"mkt_rf": mkt.values, "mkt_rf_sq": (mkt ** 2).values})
    out["series"][name]["henriksson_merton"] = fit(y, {"mkt_rf": mkt.values, "mkt_rf_up": np.maximum(mkt.values, 0.0)})
json.dump(out, open(os.path.join(here, "report_golden.json"), "w"))
print("wrote report_golden.json with factor regressions")

# Brinson-Fachler attribution by GICS sector, linked by Carino, written here with pandas from
# Brinson & Fachler (1985) and Carino (1999). Periods: the 36 months of 2010-2012; holdings: the
# 20 stocks; benchmark: equal weight; portfolio: 90% invested, weight of the i-th stock
# (alphabetical) in month t proportional to ((i + t) mod 20) + 1; the rest is cash (return 0).
SECTORS = {
    "AAPL": "Information Technology", "AMD": "Information Technology", "MSFT": "Information Technology",
    "BAC": "Financials", "JPM": "Financials", "BBY": "Consumer Discretionary", "HD": "Consumer Discretionary",
    "CVX": "Energy", "XOM": "Energy", "RRC": "Energy", "GE": "Industrials",
    "JNJ": "Health Care", "LLY": "Health Care", "MRK": "Health Care", "PFE": "Health Care", "UNH": "Health Care",
    "KO": "Consumer Staples", "PEP": "Consumer Staples", "PG": "Consumer Staples", "WMT": "Consumer Staples",
}
mret = (1 + rets).groupby([rets.index.year, rets.index.month]).prod() - 1
mret = mret.loc[[(y, m) for (y, m) in mret.index if 2010 <= y <= 2012]]
syms = sorted(SECTORS)
sectors = sorted(set(SECTORS.values()))
periods, effects, kts = [], [], []
gp = gb = 1.0
for t, (ym, row) in enumerate(mret.iterrows()):
    raw = np.array([((i + t) % 20) + 1 for i in range(20)], dtype=float)
    wp = 0.9 * raw / raw.sum()
    wb = np.full(20, 1 / 20)
    r = np.array([row[s] for s in syms])
    df = pd.DataFrame({"sector": [SECTORS[s] for s in syms], "wp": wp, "wb": wb, "r": r})
    periods.append([[sectors.index(SECTORS[s]), float(wp[i]), float(wb[i]), float(r[i])] for i, s in enumerate(syms)])
    Rp, Rb = float((df.wp * df.r).sum()), float((df.wb * df.r).sum())
    g = df.groupby("sector").apply(lambda d: pd.Series({
        "wp": d.wp.sum(), "wb": d.wb.sum(),
        "rp": (d.wp * d.r).sum() / d.wp.sum(), "rb": (d.wb * d.r).sum() / d.wb.sum()}))
    e = {}
    for sec, x in g.iterrows():
        e[sec] = ((x.wp - x.wb) * (x.rb - Rb), x.wb * (x.rp - x.rb), (x.wp - x.wb) * (x.rp - x.rb))
    e["cash"] = ((0.1 - 0.0) * (0.0 - Rb), 0.0, 0.0)
    effects.append(e)
    kts.append((np.log1p(Rp) - np.log1p(Rb)) / (Rp - Rb) if Rp != Rb else 1 / (1 + Rp))
    gp *= 1 + Rp
    gb *= 1 + Rb
RP, RB = gp - 1, gb - 1
K = (np.log1p(RP) - np.log1p(RB)) / (RP - RB)
linked = {s: [0.0, 0.0, 0.0] for s in sectors + ["cash"]}
for e, kt in zip(effects, kts):
    for s, v in e.items():
        for j in range(3):
            linked[s][j] += v[j] * kt / K
out["brinson"] = {
    "sectors": sectors,
    "periods": periods,
    "portfolio_return": RP,
    "benchmark_return": RB,
    "linked": {s: [float(x) for x in v] for s, v in linked.items()},
}
json.dump(out, open(os.path.join(here, "report_golden.json"), "w"))
print("wrote report_golden.json with Brinson-Fachler")

# Contributions of each stock to the same 36-period portfolio's return (w*r per period, linked by
# Carino against a zero benchmark: ln(1+R_t)/R_t over ln(1+R)/R) and to its variance
# (cov(w*r, R) / var(R)), with numpy.
C = np.array([[p[i][1] * p[i][3] for i in range(20)] for p in periods])  # periods x stocks
R = C.sum(axis=1)
Rtot = np.prod(1 + R) - 1
kt = np.log1p(R) / R
K = np.log1p(Rtot) / Rtot
ret_contrib = (C * (kt / K)[:, None]).sum(axis=0)
cov = ((C - C.mean(axis=0)) * (R - R.mean())[:, None]).sum(axis=0)
risk_share = cov / ((R - R.mean()) ** 2).sum()
out["contributions"] = {
    "symbols": syms,
    "return_contribution": [float(x) for x in ret_contrib],
    "risk_share": [float(x) for x in risk_share],
    "total": float(Rtot),
}
json.dump(out, open(os.path.join(here, "report_golden.json"), "w"))
print("wrote report_golden.json with contributions")
