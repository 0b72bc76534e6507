-- Open-market insider buying minus selling (Form 4 codes P and S, non-derivative), per symbol,
-- day the filings became public (ts_recv) and role; value = shares x price.
CREATE VIEW insider_net_buying AS
SELECT symbol,
       date_trunc('day', ts_recv) AS day,
       CASE WHEN is_officer THEN 'officer'
            WHEN is_director THEN 'director'
            WHEN is_ten_percent_owner THEN 'ten_percent_owner'
            ELSE 'other' END AS role,
       count(DISTINCT owner_cik) AS insiders,
       sum(CASE WHEN code = 'P' THEN shares ELSE 0 END) - sum(CASE WHEN code = 'S' THEN shares ELSE 0 END) AS net_shares,
       sum(CASE WHEN code = 'P' THEN shares * coalesce(price, 0) ELSE 0 END)
         - sum(CASE WHEN code = 'S' THEN shares * coalesce(price, 0) ELSE 0 END) AS net_value
FROM insider_trades
WHERE NOT derivative AND row_kind = 'transaction' AND code IN ('P', 'S')
GROUP BY 1, 2, 3
