-- One row per underlying and chain snapshot, with what needs a history of snapshots: the
-- at-the-money implied volatility (mean IV of the contracts with |delta| in [0.40, 0.60]), its IV
-- rank over the last 252 snapshots ((iv - min) / (max - min), this snapshot and earlier ones
-- only: no look-ahead), its IV percentile (the share of the earlier snapshots in that window with
-- a lower ATM IV), and the total open interest with its change since the previous snapshot.
CREATE VIEW options_history AS
WITH snap AS (
  SELECT symbol,
         ts_event,
         max(ts_recv) AS ts_recv,
         avg(CASE WHEN abs(delta) BETWEEN 0.40 AND 0.60 THEN implied_vol END) AS atm_iv,
         sum(coalesce(open_interest, 0)) AS open_interest
  FROM options_chain
  GROUP BY symbol, ts_event
), ranked AS (
  SELECT symbol,
         ts_event,
         ts_recv,
         atm_iv,
         open_interest,
         open_interest - lag(open_interest) OVER (PARTITION BY symbol ORDER BY ts_event) AS oi_change,
         row_number() OVER (PARTITION BY symbol ORDER BY ts_event) AS n,
         min(atm_iv) OVER (PARTITION BY symbol ORDER BY ts_event ROWS BETWEEN 251 PRECEDING AND CURRENT ROW) AS iv_low,
         max(atm_iv) OVER (PARTITION BY symbol ORDER BY ts_event ROWS BETWEEN 251 PRECEDING AND CURRENT ROW) AS iv_high
  FROM snap
), pct AS (
  SELECT a.symbol,
         a.ts_event,
         avg(CASE WHEN b.atm_iv < a.atm_iv THEN 1.0 ELSE 0.0 END) AS iv_percentile
  FROM ranked a
  JOIN ranked b ON a.symbol = b.symbol AND b.n < a.n AND b.n >= a.n - 251 AND b.atm_iv IS NOT NULL
  WHERE a.atm_iv IS NOT NULL
  GROUP BY a.symbol, a.ts_event
)
SELECT r.symbol,
       r.ts_event,
       r.ts_recv,
       r.atm_iv,
       (r.atm_iv - r.iv_low) / nullif(r.iv_high - r.iv_low, 0) AS iv_rank,
       p.iv_percentile,
       r.open_interest,
       r.oi_change
FROM ranked r
LEFT JOIN pct p ON p.symbol = r.symbol AND p.ts_event = r.ts_event
