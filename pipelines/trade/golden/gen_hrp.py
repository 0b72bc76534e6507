"""Reference HRP weights from skfolio on the same covariance elite-trade's `hrp` is given.

Input: the 250 daily returns x 20 S&P 500 stocks of portfolio_golden.json (2010). skfolio's
HierarchicalRiskParity with the sample covariance (EmpiricalPrior / EmpiricalCovariance), the
Pearson correlation distance sqrt((1 - rho) / 2) (PearsonDistance, absolute=False, power=1),
single linkage without optimal leaf ordering, variance as the risk measure, and no weight bounds
other than long-only: López de Prado's recipe (quasi-diagonal order, recursive bisection with
inverse-variance cluster weights).
Outputs (hrp_golden.json): the sample covariance (ddof 1, as skfolio estimates it) and the weights.
Run: python gen_hrp.py  (skfolio 1.12.2).
"""
import json, os
import numpy as np
import pandas as pd
import skfolio
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.distance import PearsonDistance
from skfolio.moments import EmpiricalCovariance
from skfolio.optimization import HierarchicalRiskParity
from skfolio.prior import EmpiricalPrior
from skfolio.seriation import HierarchicalSeriation

here = os.path.dirname(os.path.abspath(__file__))
g = json.load(open(os.path.join(here, "portfolio_golden.json")))
X = pd.DataFrame(np.array(g["returns"]), columns=g["symbols"])
model = HierarchicalRiskParity(
    risk_measure=RiskMeasure.VARIANCE,
    prior_estimator=EmpiricalPrior(covariance_estimator=EmpiricalCovariance()),
    distance_estimator=PearsonDistance(),
    seriation_estimator=HierarchicalSeriation(
        hierarchical_clustering_estimator=HierarchicalClustering(linkage_method=LinkageMethod.SINGLE),
        optimal_ordering=False),
)
model.fit(X)
cov = np.cov(X.values, rowvar=False, ddof=1)
json.dump({"skfolio": skfolio.__version__, "symbols": g["symbols"], "covariance": cov.tolist(),
           "weights": model.weights_.tolist()}, open(os.path.join(here, "hrp_golden.json"), "w"))
print(dict(zip(g["symbols"], np.round(model.weights_, 5))))
