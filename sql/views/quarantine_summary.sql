-- Refused records by source and kind of reason (the reason up to its first ':' or ' (').
CREATE VIEW quarantine_summary AS
SELECT source,
       target_table,
       split_part(split_part(reason, ':', 1), ' (', 1) AS reason_kind,
       count(*)                   AS records,
       min(location)              AS first_location
FROM quarantine
GROUP BY source, target_table, split_part(split_part(reason, ':', 1), ' (', 1)
