//! Calendars from the warehouse: `elite ingest calendar` lands holiday / early-close rows in the
//! `calendar` table (bad rows quarantined with their line and reason), and [`load_calendar`]
//! builds a session calendar from a built-in definition plus those rows.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Date32Type;
use chrono::{NaiveDate, NaiveTime};
use elite_pipelines::calendar::{Calendar, DayRule};
use elite_store::{At, CommitMeta, Warehouse};
use elite_warehouse::{
    CalendarBuilder, CalendarDay, Clock, QuarantineBuilder, QuarantineRecord, tables,
};
use serde::Serialize;

/// What a calendar ingest did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CalendarReport {
    pub calendar: String,
    pub rows_read: usize,
    pub rows_added: usize,
    pub rows_quarantined: usize,
}

/// Land `date,rule,close_time,note` rows for `calendar` from a CSV file.
pub async fn ingest_calendar(
    wh: &Warehouse,
    path: &Path,
    calendar: &str,
    clock: &dyn Clock,
) -> crate::Result<CalendarReport> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let source = format!("calendar-csv:{}", path.display());
    // The unit: this file's content for this calendar (a bad row is keyed by it plus its line).
    let unit = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(calendar.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        hex::encode(h.finalize())
    };
    let now = clock.now();
    let mut good = CalendarBuilder::default();
    let mut bad = QuarantineBuilder::default();
    let mut report = CalendarReport {
        calendar: calendar.to_string(),
        ..Default::default()
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, rec) in r.records().enumerate() {
        report.rows_read += 1;
        let line = i + 2;
        let quarantine = |bad: &mut QuarantineBuilder, reason: String, raw: String| {
            bad.push(QuarantineRecord {
                source: source.clone(),
                unit: unit.clone(),
                location: format!("line {line}"),
                target_table: "calendar".into(),
                reason,
                raw,
                raw_encoding: "text",
                ts_recv: now,
            })
        };
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                quarantine(&mut bad, format!("unreadable row: {e}"), String::new());
                continue;
            }
        };
        let raw = rec.iter().collect::<Vec<_>>().join(",");
        let field = |k: usize| rec.get(k).map(str::trim).filter(|s| !s.is_empty());
        let Some(date) = field(0).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            quarantine(
                &mut bad,
                format!(
                    "field `date` {:?} is not YYYY-MM-DD",
                    field(0).unwrap_or("")
                ),
                raw,
            );
            continue;
        };
        let rule = field(1).unwrap_or("");
        let close_time = field(2).map(str::to_string);
        match rule {
            "holiday" => {}
            "early_close" => {
                if close_time
                    .as_deref()
                    .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                    .is_none()
                {
                    quarantine(
                        &mut bad,
                        format!(
                            "field `close_time` {:?} must be HH:MM for an early close",
                            close_time.unwrap_or_default()
                        ),
                        raw,
                    );
                    continue;
                }
            }
            other => {
                quarantine(
                    &mut bad,
                    format!("field `rule` {other:?} must be holiday or early_close"),
                    raw,
                );
                continue;
            }
        }
        good.push(CalendarDay {
            calendar: calendar.to_string(),
            date,
            rule: rule.to_string(),
            close_time,
            note: field(3).map(str::to_string),
            source: source.clone(),
            ts_recv: now,
        });
    }
    report.rows_quarantined = bad.len();
    if !bad.is_empty() {
        wh.insert_new(
            &tables::QUARANTINE,
            vec![bad.finish()?],
            CommitMeta::new(source.clone()),
        )
        .await?;
    }
    if !good.is_empty() {
        report.rows_added = wh
            .insert_new(
                &tables::CALENDAR,
                vec![good.finish()?],
                CommitMeta::new(source),
            )
            .await?
            .rows_added;
    }
    Ok(report)
}

/// A built-in calendar with the warehouse's holiday rows for it.
pub async fn load_calendar(wh: &Warehouse, name: &str) -> crate::Result<Calendar> {
    let base = Calendar::by_name(name)?;
    let mut days = vec![];
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    for b in wh.read("calendar", At::Latest, None).await? {
        let col = |n: &str| {
            b.column_by_name(n)
                .cloned()
                .ok_or_else(|| crate::Error::Internal(format!("calendar has no {n}")))
        };
        let cal = arrow::compute::cast(&col("calendar")?, &arrow::datatypes::DataType::Utf8)?;
        let rule = arrow::compute::cast(&col("rule")?, &arrow::datatypes::DataType::Utf8)?;
        let ct = arrow::compute::cast(&col("close_time")?, &arrow::datatypes::DataType::Utf8)?;
        let date = col("date")?;
        let (cal, rule, ct, date) = (
            cal.as_string::<i32>(),
            rule.as_string::<i32>(),
            ct.as_string::<i32>(),
            date.as_primitive::<Date32Type>(),
        );
        for i in 0..b.num_rows() {
            if !cal.value(i).eq_ignore_ascii_case(&base.name) {
                continue;
            }
            let d = epoch + chrono::Duration::days(date.value(i) as i64);
            let r = match rule.value(i) {
                "holiday" => DayRule::Holiday,
                _ => match ct
                    .is_valid(i)
                    .then(|| NaiveTime::parse_from_str(ct.value(i), "%H:%M").ok())
                    .flatten()
                {
                    Some(t) => DayRule::EarlyClose(t),
                    None => continue,
                },
            };
            days.push((d, r));
        }
    }
    Ok(base.with_holidays(days))
}
