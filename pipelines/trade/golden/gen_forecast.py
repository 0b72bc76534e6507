"""Reference fits and forecasts for elite-trade's GARCH and GJR-GARCH (forecast.rs), from PyPI
`arch` 8.0.0 on real returns: GOOG's daily log returns in percent (collectors/fixtures/bars/
GOOG_1d.csv, 2147 returns). Models: constant mean, GARCH(1,1) and GJR-GARCH(1,1,1), normal and
standardized Student-t errors; arch's default fit (SLSQP) with ftol 1e-12. Outputs
(forecast_golden.json): the returns, each model's parameters, log-likelihood and 10-step variance
forecast. Run: python gen_forecast.py  (arch 8.0.0, numpy).
"""
import csv, json, os
import numpy as np
from arch import arch_model

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "../../../collectors/fixtures/bars/GOOG_1d.csv"))))
c = np.array([float(r["close"]) for r in rows])
r = 100 * np.diff(np.log(c))
out = {"returns": [float(x) for x in r], "fits": {}}
for vol, o in [("garch", 0), ("gjr", 1)]:
    for dist in ["normal", "t"]:
        m = arch_model(r, mean="Constant", vol="GARCH", p=1, o=o, q=1, dist=dist)
        f = m.fit(disp="off", options={"ftol": 1e-12, "maxiter": 2000})
        fc = f.forecast(horizon=10, reindex=False)
        p = f.params
        out["fits"][f"{vol}_{dist}"] = {
            "mu": float(p["mu"]), "omega": float(p["omega"]), "alpha": float(p["alpha[1]"]),
            "gamma": float(p.get("gamma[1]", 0.0)), "beta": float(p["beta[1]"]),
            "nu": float(p["nu"]) if "nu" in p else None,
            "loglik": float(f.loglikelihood),
            "variance": [float(x) for x in fc.variance.values[-1]],
        }
json.dump(out, open(os.path.join(here, "forecast_golden.json"), "w"))
print("wrote forecast_golden.json")
