//! NSE insider-trading disclosures (SEBI PIT Regulations, 2015): the exchange's `corporates-pit`
//! JSON (`{"data": [{"symbol", "acqName", "personCategory", "secAcq", "secVal",
//! "tdpTransactionType", "acqMode", "acqfromDt", "acqtoDt", "date", …}]}`) or the CSV the same
//! page downloads (`SYMBOL`, `NAME OF THE ACQUIRER/DISPOSER`, `CATEGORY OF PERSON`, …; NSE's
//! headers carry trailing spaces and line breaks, and a typo — `DISPLOSED` — that is matched
//! as written). Both land in `insider_trades` as the SEC forms do, one row per disclosure:
//!
//! - code: a `Buy` whose mode is a market trade (`Market Purchase`, `Market Sale`, `Market
//!   Purchase/Sale`) is `P`, a market `Sell` is `S` — the open-market codes the
//!   `insider_net_buying` view and the `insider` features count; every other disclosure (ESOP
//!   allotment, off-market transfer, pledge, revoke, invoke, gift) is `J`, Form 4's "other
//!   acquisition or disposition", with the type and mode kept in the row's note;
//! - roles from the category of person: `Director` → director; `Key Managerial Personnel`,
//!   `Designated Employees` → officer (the category as the title); `Promoters`,
//!   `Promoter Group` → ten-percent owner (NSE's controlling holders); anything else → other;
//! - price = value ÷ securities (rupees); `ts_event` = the last day of the acquisition period
//!   (`acqtoDt`, else `acqfromDt`); `filed` = the exchange's broadcast time (`date`, IST),
//!   when the disclosure became public (absent: the job uses the time of ingest).
//!
//! NSE gives no filing number, so a disclosure's accession is `nse:` and the hash of its parsed
//! values: the JSON and the CSV of the same disclosure are the same record, landed once.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use elite_warehouse::{Clock, QuarantineRecord, Timestamp};

use crate::insider::{Filing, InsiderRow};
use crate::{Error, Result};

/// A field's names: the JSON key and the CSV header's start, both lowercased with everything
/// but letters and digits removed.
struct Field {
    json: &'static str,
    csv: &'static str,
}

const SYMBOL: Field = Field {
    json: "symbol",
    csv: "symbol",
};
const COMPANY: Field = Field {
    json: "company",
    csv: "company",
};
const NAME: Field = Field {
    json: "acqname",
    csv: "nameoftheacquirerdisposer",
};
const CATEGORY: Field = Field {
    json: "personcategory",
    csv: "categoryofperson",
};
const SECURITY: Field = Field {
    json: "sectype",
    csv: "typeofsecurityacquired",
};
const SHARES: Field = Field {
    json: "secacq",
    csv: "noofsecuritiesacquired",
};
const VALUE: Field = Field {
    json: "secval",
    csv: "valueofsecurityacquired",
};
const KIND: Field = Field {
    json: "tdptransactiontype",
    csv: "acquisitiondisposaltransactiontype",
};
const AFTER: Field = Field {
    json: "afteracqsharesno",
    csv: "noofsecuritypost",
};
const FROM: Field = Field {
    json: "acqfromdt",
    csv: "dateofallotmentacquisitionfrom",
};
const TO: Field = Field {
    json: "acqtodt",
    csv: "dateofallotmentacquisitionto",
};
const MODE: Field = Field {
    json: "acqmode",
    csv: "modeofacquisition",
};
const BROADCAST: Field = Field {
    json: "date",
    csv: "broadcast",
};
const REMARKS: Field = Field {
    json: "remarks",
    csv: "remark",
};

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One disclosure's cells by normalized name.
struct Record {
    cells: Vec<(String, String)>,
    csv: bool,
}

impl Record {
    /// The cell as written (trimmed), if the field is there.
    fn raw(&self, f: &Field) -> Option<&str> {
        self.cells
            .iter()
            .find(|(k, _)| {
                if self.csv {
                    k.starts_with(f.csv)
                } else {
                    k == f.json
                }
            })
            .map(|(_, v)| v.trim())
    }

    /// The cell, unless empty, `-` or `NIL` (NSE's blanks).
    fn get(&self, f: &Field) -> Option<&str> {
        self.raw(f)
            .filter(|v| !v.is_empty() && *v != "-" && !v.eq_ignore_ascii_case("nil"))
    }
}

fn number(s: &str) -> Option<f64> {
    s.replace(',', "")
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

fn date(s: &str) -> Option<NaiveDate> {
    ["%d-%b-%Y", "%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s.trim(), f).ok())
}

fn broadcast(s: &str) -> Option<Timestamp> {
    let dt = [
        "%d-%b-%Y %H:%M:%S",
        "%d-%b-%Y %H:%M",
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())?;
    let t = chrono_tz::Asia::Kolkata
        .from_local_datetime(&dt)
        .earliest()?;
    Timestamp::from_datetime(&t)
}

fn records(bytes: &[u8], source: &str) -> Result<Vec<(String, Record)>> {
    let head = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF);
    if matches!(head, Some(b'{' | b'[')) {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
            location: source.to_string(),
            reason: format!("not JSON: {e}"),
        })?;
        let list = v
            .get("data")
            .unwrap_or(&v)
            .as_array()
            .ok_or_else(|| Error::Input {
                location: source.to_string(),
                reason: "no `data` array of disclosures (NSE corporates-pit)".into(),
            })?;
        return Ok(list
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let cells = r
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                let v = match v {
                                    serde_json::Value::String(s) => s.clone(),
                                    serde_json::Value::Null => String::new(),
                                    other => other.to_string(),
                                };
                                (norm(k), v)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (format!("data[{i}]"), Record { cells, csv: false })
            })
            .collect());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Input {
            location: source.to_string(),
            reason: format!("CSV header: {e}"),
        })?
        .iter()
        .map(norm)
        .collect();
    if !headers.iter().any(|h| h.starts_with(NAME.csv)) {
        return Err(Error::Input {
            location: source.to_string(),
            reason: "neither NSE corporates-pit JSON nor its CSV (no `NAME OF THE ACQUIRER/DISPOSER` column)".into(),
        });
    }
    let mut out = vec![];
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::Input {
            location: source.to_string(),
            reason: format!("CSV: {e}"),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let cells = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        out.push((format!("line {line}"), Record { cells, csv: true }));
    }
    Ok(out)
}

/// Decode an NSE PIT disclosure file (JSON or CSV); one filing per disclosure, or its quarantine
/// record naming the field.
pub fn decode_nse_insider(
    bytes: &[u8],
    source: &str,
    clock: &dyn Clock,
) -> Result<Vec<(Filing, Vec<QuarantineRecord>)>> {
    let now = clock.now();
    let mut out = vec![];
    for (location, r) in records(bytes, source)? {
        let raw = || {
            r.cells
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("|")
        };
        let bad = |field: &str, why: &str| {
            QuarantineRecord::new(
                source,
                "insider_trades",
                location.clone(),
                format!("{field}: {why}"),
                raw(),
                if r.csv { "csv" } else { "json" },
                now,
            )
        };
        let problem = if r.get(&SYMBOL).is_none() {
            Some(bad("symbol", "missing"))
        } else if r.get(&NAME).is_none() {
            Some(bad("acqName (name of the acquirer/disposer)", "missing"))
        } else if r.get(&SHARES).and_then(number).is_none_or(|x| x < 0.0) {
            Some(bad(
                "secAcq (no. of securities acquired/disposed)",
                &format!(
                    "{:?} is not a number of securities",
                    r.raw(&SHARES).unwrap_or("")
                ),
            ))
        } else if r.get(&TO).or(r.get(&FROM)).and_then(date).is_none() {
            Some(bad(
                "acqtoDt/acqfromDt (date of acquisition)",
                &format!(
                    "{:?} is not a date (DD-Mon-YYYY)",
                    r.raw(&TO).or(r.raw(&FROM)).unwrap_or("")
                ),
            ))
        } else {
            None
        };
        if let Some(q) = problem {
            out.push((Filing::default(), vec![q]));
            continue;
        }
        let s = |f: &Field| r.get(f).map(str::to_string);
        let (symbol, name) = (s(&SYMBOL).unwrap_or_default(), s(&NAME).unwrap_or_default());
        let shares = r.get(&SHARES).and_then(number);
        let value = r.get(&VALUE).and_then(number);
        let day = r.get(&TO).or(r.get(&FROM)).and_then(date);
        let Some(ts_event) = day
            .and_then(|d| Timestamp::from_datetime(&d.and_time(chrono::NaiveTime::MIN).and_utc()))
        else {
            out.push((Filing::default(), vec![bad("acqtoDt", "out of range")]));
            continue;
        };
        let filed = r.get(&BROADCAST).and_then(broadcast);
        let kind = s(&KIND).unwrap_or_default();
        let mode = s(&MODE).unwrap_or_default();
        let market = mode.to_ascii_lowercase().starts_with("market");
        let (code, ad) = match kind.to_ascii_lowercase().as_str() {
            "buy" | "acquisition" => (if market { "P" } else { "J" }, Some("A")),
            "sell" | "disposal" => (if market { "S" } else { "J" }, Some("D")),
            _ => ("J", None),
        };
        let category = s(&CATEGORY).unwrap_or_default();
        let cat = category.to_ascii_lowercase();
        let is_director = cat.contains("director");
        let is_officer =
            !is_director && (cat.contains("key managerial") || cat.contains("designated"));
        let is_ten_percent_owner = !is_director && !is_officer && cat.contains("promoter");
        let security = s(&SECURITY);
        let derivative = security.as_deref().is_some_and(|x| {
            let x = x.to_ascii_lowercase();
            x.contains("derivative") || x.contains("future") || x.contains("option")
        });
        let fmt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let id = crate::news::sha_hex(&[
            &symbol,
            &name,
            &category,
            &kind,
            &mode,
            &fmt(shares),
            &fmt(value),
            &ts_event.as_nanos().to_string(),
            &filed.map(|t| t.as_nanos().to_string()).unwrap_or_default(),
            security.as_deref().unwrap_or(""),
        ]);
        let note = [
            Some(format!("NSE PIT: {kind}")),
            (!mode.is_empty()).then(|| format!("mode {mode}")),
            r.get(&REMARKS).map(|x| format!("remarks {x}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
        let filing = Filing {
            accession: format!("nse:{}", &id[..20]),
            form: "PIT".into(),
            issuer_cik: String::new(),
            issuer_name: s(&COMPANY),
            symbol: Some(symbol),
            owner_cik: format!("nse:{}", name.to_uppercase()),
            owner_names: name,
            is_director,
            is_officer,
            is_ten_percent_owner,
            is_other: !is_director && !is_officer && !is_ten_percent_owner,
            officer_title: is_officer.then_some(category),
            filed,
            rows: vec![InsiderRow {
                // One row per disclosure: the key must not depend on the file's layout.
                location: "disclosure".into(),
                derivative,
                row_kind: "transaction",
                security,
                ts_event,
                code: Some(code.to_string()),
                acquired_disposed: ad.map(str::to_string),
                shares,
                price: match (value, shares) {
                    (Some(v), Some(n)) if n > 0.0 => Some(v / n),
                    _ => None,
                },
                shares_after: r.get(&AFTER).and_then(number),
                ownership: Some("D".into()),
                exercise_price: None,
                underlying_shares: None,
                footnotes: Some(note),
            }],
        };
        out.push((filing, vec![]));
    }
    Ok(out)
}
