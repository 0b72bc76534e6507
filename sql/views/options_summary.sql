-- One row per underlying and chain snapshot: put/call volume and open-interest ratios, the
-- 25-delta skew (mean IV of puts with delta in [-0.30, -0.20] minus calls with delta in
-- [0.20, 0.30]) and unusual volume (contracts trading more than their open interest, at least 100).
CREATE VIEW options_summary AS
SELECT symbol,
       ts_event,
       count(*) AS contracts,
       sum(CASE WHEN option_type = 'call' THEN coalesce(volume, 0) ELSE 0 END) AS call_volume,
       sum(CASE WHEN option_type = 'put' THEN coalesce(volume, 0) ELSE 0 END) AS put_volume,
       sum(CASE WHEN option_type = 'put' THEN coalesce(volume, 0) ELSE 0 END)
         / nullif(sum(CASE WHEN option_type = 'call' THEN coalesce(volume, 0) ELSE 0 END), 0) AS put_call_volume,
       sum(CASE WHEN option_type = 'put' THEN coalesce(open_interest, 0) ELSE 0 END)
         / nullif(sum(CASE WHEN option_type = 'call' THEN coalesce(open_interest, 0) ELSE 0 END), 0) AS put_call_oi,
       avg(CASE WHEN option_type = 'put' AND delta BETWEEN -0.30 AND -0.20 THEN implied_vol END)
         - avg(CASE WHEN option_type = 'call' AND delta BETWEEN 0.20 AND 0.30 THEN implied_vol END) AS skew_25d,
       sum(CASE WHEN volume >= 100 AND volume > coalesce(open_interest, 0) THEN 1 ELSE 0 END) AS unusual_contracts
FROM options_chain
GROUP BY symbol, ts_event
