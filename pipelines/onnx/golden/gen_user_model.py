"""A user-supplied ONNX model, made outside Elite, for the import tests.

scikit-learn 1.9.1 GradientBoostingClassifier (in a Pipeline with StandardScaler) on GOOG daily
closes (collectors/fixtures/bars/GOOG_1d.csv): features ret_1, ret_5, ret_20, dist_sma_20 — the
same definitions as Elite's `technical` set (simple returns; close / 20-bar mean − 1) — and the
next day's direction, fitted on bars up to 2009-12-31 only. Exported by skl2onnx 1.20.0
(zipmap off: outputs `label` int64 [N] and `probabilities` float [N, 2]; input `input` [N, 4]).
Writes user_gbm.onnx and user_gbm.json (sklearn's P(up) for every usable bar, to compare with).
Run: python gen_user_model.py   (pip install scikit-learn==1.9.1 skl2onnx==1.20.0)"""
import csv, json, os
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "../../../collectors/fixtures/bars/GOOG_1d.csv"))))
dates = [r["ts"] for r in rows]
c = np.array([float(r["close"]) for r in rows])
X, y, d = [], [], []
for t in range(20, len(c) - 1):
    X.append([c[t] / c[t - 1] - 1, c[t] / c[t - 5] - 1, c[t] / c[t - 20] - 1, c[t] / c[t - 19:t + 1].mean() - 1])
    y.append(1 if c[t + 1] > c[t] else 0)
    d.append(dates[t][:10])
X, y = np.array(X), np.array(y)
fit = np.array([x <= "2009-12-31" for x in d])
model = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=60, max_depth=2, random_state=7))
model.fit(X[fit], y[fit])
onx = to_onnx(model, X[:1].astype(np.float32), options={id(model.steps[-1][1]): {"zipmap": False}},
              target_opset=17)
open(os.path.join(here, "user_gbm.onnx"), "wb").write(onx.SerializeToString())
prob = model.predict_proba(X.astype(np.float32))[:, 1]
json.dump({"features": ["ret_1", "ret_5", "ret_20", "dist_sma_20"], "trained_until": "2009-12-31",
           "dates": d, "X": X.tolist(), "prob": prob.tolist()},
          open(os.path.join(here, "user_gbm.json"), "w"))
print("usable rows", len(d), "fitted on", int(fit.sum()))
