-- What bars the warehouse holds: one row per symbol and timeframe.
CREATE VIEW bar_coverage AS
SELECT symbol,
       timeframe,
       count(*)          AS bars,
       min(ts_event)     AS first_bar,
       max(ts_event)     AS last_bar,
       count(DISTINCT source) AS sources
FROM bars
GROUP BY symbol, timeframe
