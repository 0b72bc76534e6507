-- Mean cumulative abnormal return after news, by sentiment label, per scorer version and
-- event-study parameters (rows of `elite sentiment impact`); t = mean / (sd / sqrt(n)).
CREATE VIEW news_impact_by_label AS
SELECT version,
       params,
       label,
       count(*) AS events,
       avg(car) AS mean_car,
       avg(ar0) AS mean_ar0,
       avg(car) / (stddev(car) / sqrt(count(*))) AS t_stat
FROM news_impact
GROUP BY version, params, label
