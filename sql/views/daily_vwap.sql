-- Volume-weighted average of typical price (h+l+c)/3 per symbol and UTC day, from any timeframe below 1d.
CREATE VIEW daily_vwap AS
SELECT symbol,
       date_trunc('day', ts_event)                                        AS day,
       sum((high + low + close) / 3 * volume) / nullif(sum(volume), 0)   AS vwap,
       sum(volume)                                                        AS volume,
       count(*)                                                           AS bars
FROM bars
WHERE timeframe NOT IN ('1d', '1w', '1mo')
GROUP BY symbol, date_trunc('day', ts_event)
