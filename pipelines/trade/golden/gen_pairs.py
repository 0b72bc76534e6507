"""Reference values for elite-trade's pairs module from statsmodels 0.15.0 (OLS, adfuller, coint,
mackinnoncrit): KO and PEP log adjusted closes, the first 250 trading days of 2010 and of 2015,
from collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz. Run: python gen_pairs.py"""
import csv, gzip, json, os
import numpy as np
import statsmodels.api as sm
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.adfvalues import mackinnoncrit

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "../../../collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz")
px = {}
for r in csv.DictReader(gzip.open(path, "rt")):
    if r["symbol"] in ("KO", "PEP"):
        px.setdefault(r["symbol"], []).append((r["ts"], float(r["close"])))
out = []
for start in ("2010-01-01", "2015-01-01"):
    a = np.log([c for t, c in sorted(px["KO"]) if t >= start][:250])
    b = np.log([c for t, c in sorted(px["PEP"]) if t >= start][:250])
    fit = sm.OLS(a, sm.add_constant(b)).fit()
    adf = adfuller(fit.resid, maxlag=0, regression="n", autolag=None)[0]
    t, p, crit = coint(a, b, trend="c", maxlag=0, autolag=None)
    out.append({"start": start, "alpha": fit.params[0], "beta": fit.params[1], "adf": adf,
                "coint_t": t, "crit5": mackinnoncrit(N=2, regression="c", nobs=249)[1]})
json.dump(out, open(os.path.join(here, "pairs_golden.json"), "w"), indent=1)
print(out)
