//! Event studies with the market model (MacKinlay 1997): a stock's return regressed on the
//! market's over an estimation window that ends `gap` days before the event; abnormal returns
//! after it are the stock's returns minus the model's prediction, and their sum is the CAR.

use serde::Serialize;

/// The windows, in trading days.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Windows {
    /// Days in the estimation window.
    pub estimation: usize,
    /// Days between the estimation window's end and the event day.
    pub gap: usize,
    /// Days after the event day summed into the CAR (the event day included: 0..=post).
    pub post: usize,
}

/// One event's market-model result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventResult {
    pub alpha: f64,
    pub beta: f64,
    /// Abnormal return on days 0..=post.
    pub ar: Vec<f64>,
    /// Cumulative abnormal return over 0..=post.
    pub car: f64,
    /// Standard deviation of the estimation window's residuals.
    pub sigma: f64,
}

/// The market model around event day `d0` of aligned daily return series (`stock[i]` and
/// `market[i]` the same day). `None` when a window does not fit in the series, a return is not
/// finite, or the market did not move in the estimation window.
pub fn market_model(stock: &[f64], market: &[f64], d0: usize, w: Windows) -> Option<EventResult> {
    if stock.len() != market.len() || w.estimation < 3 {
        return None;
    }
    let end = d0.checked_sub(w.gap)?;
    let start = end.checked_sub(w.estimation)?;
    if d0 + w.post >= stock.len() {
        return None;
    }
    let (x, y) = (&market[start..end], &stock[start..end]);
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let beta = sxy / sxx;
    let alpha = my - beta * mx;
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - alpha - beta * a).powi(2))
        .sum();
    let ar: Vec<f64> = (d0..=d0 + w.post)
        .map(|i| stock[i] - alpha - beta * market[i])
        .collect();
    if ar.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(EventResult {
        alpha,
        beta,
        car: ar.iter().sum(),
        ar,
        sigma: (rss / (n - 2.0)).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_model_and_the_abnormal_returns() {
        // stock = 0.001 + 1.5 · market exactly in the estimation window; on days 0..=2 the stock
        // beats the model by 0.01, 0.02, −0.005.
        let market: Vec<f64> = (0..40)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 500.0)
            .collect();
        let mut stock: Vec<f64> = market.iter().map(|m| 0.001 + 1.5 * m).collect();
        for (k, extra) in [0.01, 0.02, -0.005].iter().enumerate() {
            stock[30 + k] += extra;
        }
        let w = Windows {
            estimation: 20,
            gap: 5,
            post: 2,
        };
        let r = market_model(&stock, &market, 30, w).unwrap();
        assert!(
            (r.alpha - 0.001).abs() < 1e-12 && (r.beta - 1.5).abs() < 1e-12,
            "{r:?}"
        );
        assert_eq!(r.ar.len(), 3);
        assert!((r.car - 0.025).abs() < 1e-12, "{r:?}");
        assert!(r.sigma < 1e-12);
        assert!(
            market_model(&stock, &market, 24, w).is_none(),
            "estimation window before the start"
        );
        assert!(
            market_model(&stock, &market, 38, w).is_none(),
            "post window past the end"
        );
    }
}
