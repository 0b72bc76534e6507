"""Reference values for elite-models and elite-lgbm, from scikit-learn 1.9.1, scipy 1.17.1 and the
Python lightgbm 4.7.0 package (the same LightGBM version lightgbm3 bundles).

Data: GOOG daily closes (collectors/fixtures/bars/GOOG_1d.csv), 4 features per day — 1-, 5- and
20-day returns and close / 20-day mean − 1 — and the next day's direction, first 800 usable days.
Run: python gen_models.py"""
import csv, json, os
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, log_loss
from scipy.stats import ks_2samp, kstwobign
import lightgbm as lgb

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "../../../collectors/fixtures/bars/GOOG_1d.csv"))))
c = np.array([float(r["close"]) for r in rows])
X, y = [], []
for t in range(20, len(c) - 1):
    X.append([c[t] / c[t - 1] - 1, c[t] / c[t - 5] - 1, c[t] / c[t - 20] - 1, c[t] / c[t - 19:t + 1].mean() - 1])
    y.append(1 if c[t + 1] > c[t] else 0)
X, y = np.array(X[:800]), np.array(y[:800])

l2 = 2.0
sc = StandardScaler().fit(X)
lr = LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10000).fit(sc.transform(X), y)
prob = lr.predict_proba(sc.transform(X))[:, 1]

# Scores with ties, for AUC's tie rule.
tied = np.round(prob, 2)

params = {"boosting": "gbdt", "objective": "binary", "num_iterations": 30, "learning_rate": 0.1,
          "num_leaves": 7, "min_data_in_leaf": 20, "feature_fraction": 1.0, "bagging_fraction": 1.0,
          "bagging_freq": 0, "lambda_l2": 0.0, "seed": 7, "deterministic": True, "force_row_wise": True,
          "num_threads": 1, "verbosity": -1}
out = {"X": X.tolist(), "y": y.tolist(), "l2": l2}
out["logistic"] = {"intercept": float(lr.intercept_[0]), "coef": lr.coef_[0].tolist(), "prob": prob.tolist()}
out["auc_tied"] = float(roc_auc_score(y, tied))
out["tied"] = tied.tolist()
out["log_loss"] = float(log_loss(y, prob))
a, b = X[:400, 0], X[400:, 0]
ks = ks_2samp(a, b, method="asymp")
# p-value from the Kolmogorov limiting distribution at sqrt(n m / (n + m)) D (what elite computes);
# scipy's own asymp p uses the finite-n kstwo distribution, kept for comparison.
en = len(a) * len(b) / (len(a) + len(b))
out["ks"] = {"d": float(ks.statistic), "p_limit": float(kstwobign.sf(np.sqrt(en) * ks.statistic)),
             "p_scipy_asymp": float(ks.pvalue)}
models = {}
for name, extra in [("gbdt", {}), ("dart", {"boosting": "dart"}),
                    ("rf", {"boosting": "rf", "bagging_fraction": 0.632, "bagging_freq": 1})]:
    p = dict(params, **extra)
    bst = lgb.train(p, lgb.Dataset(X, label=y, feature_name=["r1", "r5", "r20", "d20"]))
    models[name] = {"params": p, "pred": bst.predict(X, num_threads=1).tolist(),
                    "gain": bst.feature_importance("gain").tolist()}
out["lightgbm"] = models
json.dump(out, open(os.path.join(here, "models_golden.json"), "w"))
print({k: v for k, v in out.items() if k in ("auc_tied", "log_loss", "ks")}, out["logistic"]["coef"])
