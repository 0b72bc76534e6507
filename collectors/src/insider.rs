//! SEC insider filings (Forms 3, 4 and 5): the `ownershipDocument` XML, bare or inside an EDGAR
//! submission (`.txt` SEC-DOCUMENT with a text header, or `.nc` SGML with unclosed header tags).
//!
//! One record per reported transaction or holding, derivative or not, with the issuer, the
//! reporting owner and their roles (director, officer + title, 10% owner, other), the transaction
//! code (P open-market purchase, S sale, A grant, M option exercise, G gift, F tax withholding…),
//! acquired/disposed, shares, price, shares owned after, direct/indirect, and for derivatives the
//! exercise price and underlying shares. A value given only as a footnote (`<footnoteId/>` with no
//! `<value>`) is null, and every footnote a record cites is kept with it as text.
//!
//! `ts_event` is the transaction date (a holding: the period of report). `filed` is when the
//! filing became public: the submission's `ACCEPTANCE-DATETIME` (New York time), else the end of
//! its `FILING-DATE` day; a bare XML file says neither (the job then uses the time of ingest).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use elite_warehouse::{Clock, QuarantineRecord, Timestamp};

use crate::{Error, Result};

/// One transaction or holding of a filing.
#[derive(Clone, Debug, PartialEq)]
pub struct InsiderRow {
    /// `nonDerivativeTable/nonDerivativeTransaction[1]`, …
    pub location: String,
    pub derivative: bool,
    /// `transaction` or `holding`.
    pub row_kind: &'static str,
    pub security: Option<String>,
    pub ts_event: Timestamp,
    pub code: Option<String>,
    /// `A` (acquired) or `D` (disposed).
    pub acquired_disposed: Option<String>,
    pub shares: Option<f64>,
    pub price: Option<f64>,
    pub shares_after: Option<f64>,
    /// `D` (direct) or `I` (indirect).
    pub ownership: Option<String>,
    pub exercise_price: Option<f64>,
    pub underlying_shares: Option<f64>,
    /// The footnotes this record cites: `F3: The price reported … | F5: …`.
    pub footnotes: Option<String>,
}

/// A decoded filing.
#[derive(Clone, Debug, Default)]
pub struct Filing {
    /// From the submission header, else the hash of the document.
    pub accession: String,
    pub form: String,
    pub issuer_cik: String,
    pub issuer_name: Option<String>,
    pub symbol: Option<String>,
    pub owner_cik: String,
    /// Every reporting owner's name (joint filings have several), `; `-separated.
    pub owner_names: String,
    pub is_director: bool,
    pub is_officer: bool,
    pub is_ten_percent_owner: bool,
    pub is_other: bool,
    pub officer_title: Option<String>,
    /// When the filing was public, if the payload says.
    pub filed: Option<Timestamp>,
    pub rows: Vec<InsiderRow>,
}

/// What a filing payload decoded to.
#[derive(Debug, Default)]
pub struct DecodedFiling {
    pub filing: Filing,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

/// The value of an SGML header tag (`<ACCEPTANCE-DATETIME>20250110160730`, `ACCESSION NUMBER:`).
fn header(text: &str, tag: &str, label: &str) -> Option<String> {
    let head = &text[..text.find("<XML>").unwrap_or(text.len())];
    let after = head
        .find(&format!("<{tag}>"))
        .map(|i| &head[i + tag.len() + 2..])
        .or_else(|| head.find(label).map(|i| &head[i + label.len()..]))?;
    let v: String = after
        .trim_start_matches([':', ' ', '\t'])
        .chars()
        .take_while(|c| *c != '<' && *c != '\n' && *c != '\r')
        .collect();
    let v = v.trim().to_string();
    (!v.is_empty()).then_some(v)
}

fn ny(dt: NaiveDateTime) -> Option<Timestamp> {
    let t = chrono_tz::America::New_York
        .from_local_datetime(&dt)
        .earliest()?;
    Timestamp::from_datetime(&t)
}

fn date_ts(d: NaiveDate) -> Option<Timestamp> {
    Timestamp::from_datetime(&d.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn flag(s: Option<&str>) -> bool {
    matches!(s.map(str::trim), Some("1" | "true" | "TRUE" | "True"))
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn text_at(n: roxmltree::Node<'_, '_>, path: &[&str]) -> Option<String> {
    let mut cur = n;
    for p in path {
        cur = child(cur, p)?;
    }
    cur.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// `<x><value>…</value></x>` (the form's value wrapper), or `<x>…</x>`.
fn value_at(n: roxmltree::Node<'_, '_>, path: &[&str]) -> Option<String> {
    let mut p = path.to_vec();
    p.push("value");
    text_at(n, &p).or_else(|| text_at(n, path))
}

/// Decode one filing: bare `ownershipDocument` XML, or an EDGAR `.txt`/`.nc` submission.
pub fn decode_filing(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedFiling> {
    let now = clock.now();
    let text = String::from_utf8_lossy(bytes);
    let xml = match (text.find("<XML>"), text.find("</XML>")) {
        (Some(a), Some(b)) if b > a => text[a + 5..b].trim(),
        _ => text.trim(),
    };
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not an ownershipDocument: {e}"),
    })?;
    let root = doc.root_element();
    if !root.has_tag_name("ownershipDocument") {
        return Err(Error::Input {
            location: source.to_string(),
            reason: format!(
                "root element is <{}>, not <ownershipDocument>",
                root.tag_name().name()
            ),
        });
    }
    let footnotes: HashMap<String, String> = child(root, "footnotes")
        .into_iter()
        .flat_map(|f| f.children().filter(|c| c.has_tag_name("footnote")))
        .filter_map(|f| {
            let text = f
                .text()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            Some((f.attribute("id")?.to_string(), text))
        })
        .collect();
    let owners: Vec<roxmltree::Node<'_, '_>> = root
        .children()
        .filter(|c| c.has_tag_name("reportingOwner"))
        .collect();
    let first = owners.first().copied();
    let rel = first.and_then(|o| child(o, "reportingOwnerRelationship"));
    let rel_flag = |k: &str| flag(rel.and_then(|r| text_at(r, &[k])).as_deref());
    let filed = header(&text, "ACCEPTANCE-DATETIME", "ACCEPTANCE-DATETIME")
        .and_then(|v| NaiveDateTime::parse_from_str(&v, "%Y%m%d%H%M%S").ok())
        .and_then(ny)
        .or_else(|| {
            header(&text, "FILING-DATE", "FILED AS OF DATE")
                .and_then(|v| NaiveDate::parse_from_str(&v, "%Y%m%d").ok())
                .and_then(|d| d.succ_opt())
                .and_then(|d| ny(d.and_time(chrono::NaiveTime::MIN)))
        });
    let accession = header(&text, "ACCESSION-NUMBER", "ACCESSION NUMBER")
        .unwrap_or_else(|| crate::news::sha_hex(&[xml])[..20].to_string());
    let period = text_at(root, &["periodOfReport"])
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .and_then(date_ts);
    let mut out = DecodedFiling {
        filing: Filing {
            accession,
            form: text_at(root, &["documentType"]).unwrap_or_default(),
            issuer_cik: text_at(root, &["issuer", "issuerCik"]).unwrap_or_default(),
            issuer_name: text_at(root, &["issuer", "issuerName"]),
            symbol: text_at(root, &["issuer", "issuerTradingSymbol"])
                .filter(|s| !s.eq_ignore_ascii_case("none") && !s.eq_ignore_ascii_case("n/a")),
            owner_cik: first
                .and_then(|o| text_at(o, &["reportingOwnerId", "rptOwnerCik"]))
                .unwrap_or_default(),
            owner_names: owners
                .iter()
                .filter_map(|o| text_at(*o, &["reportingOwnerId", "rptOwnerName"]))
                .collect::<Vec<_>>()
                .join("; "),
            is_director: rel_flag("isDirector"),
            is_officer: rel_flag("isOfficer"),
            is_ten_percent_owner: rel_flag("isTenPercentOwner"),
            is_other: rel_flag("isOther"),
            officer_title: rel.and_then(|r| text_at(r, &["officerTitle"])),
            filed,
            rows: vec![],
        },
        ..Default::default()
    };
    for (table, derivative) in [("nonDerivativeTable", false), ("derivativeTable", true)] {
        let Some(t) = child(root, table) else {
            continue;
        };
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for e in t.children().filter(|c| c.is_element()) {
            let name = e.tag_name().name();
            let row_kind = if name.ends_with("Transaction") {
                "transaction"
            } else if name.ends_with("Holding") {
                "holding"
            } else {
                continue;
            };
            let k = counts.entry(name).or_default();
            *k += 1;
            out.rows_read += 1;
            let location = format!("{table}/{name}[{k}]");
            match row(e, row_kind, derivative, period, &footnotes, &location) {
                Ok(r) => out.filing.rows.push(r),
                Err(reason) => out.quarantine.push(QuarantineRecord::new(
                    source,
                    "insider_trades",
                    location,
                    reason,
                    &xml[e.range()],
                    "text",
                    now,
                )),
            }
        }
    }
    Ok(out)
}

fn number(e: roxmltree::Node<'_, '_>, path: &[&str]) -> std::result::Result<Option<f64>, String> {
    match value_at(e, path) {
        None => Ok(None),
        Some(v) => v
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{}: {v:?} is not a number", path.join("/"))),
    }
}

fn row(
    e: roxmltree::Node<'_, '_>,
    row_kind: &'static str,
    derivative: bool,
    period: Option<Timestamp>,
    footnotes: &HashMap<String, String>,
    location: &str,
) -> std::result::Result<InsiderRow, String> {
    let ts_event = match value_at(e, &["transactionDate"]) {
        Some(d) => {
            let d = NaiveDate::parse_from_str(d.get(..10).unwrap_or(&d), "%Y-%m-%d")
                .map_err(|_| format!("transactionDate: {d:?} is not YYYY-MM-DD"))?;
            date_ts(d).ok_or("transactionDate: out of range")?
        }
        None if row_kind == "holding" => {
            period.ok_or("periodOfReport: missing (a holding's date)")?
        }
        None => return Err("transactionDate: missing".into()),
    };
    let code = text_at(e, &["transactionCoding", "transactionCode"]);
    if row_kind == "transaction" && code.is_none() {
        return Err("transactionCoding/transactionCode: missing".into());
    }
    let cited: Vec<String> = {
        let mut ids: Vec<&str> = e
            .descendants()
            .filter(|d| d.has_tag_name("footnoteId"))
            .filter_map(|d| d.attribute("id"))
            .collect();
        ids.dedup();
        let mut seen = std::collections::HashSet::new();
        ids.into_iter()
            .filter(|id| seen.insert(*id))
            .map(|id| match footnotes.get(id) {
                Some(t) => format!("{id}: {t}"),
                None => format!("{id}: (not in the filing's footnotes)"),
            })
            .collect()
    };
    Ok(InsiderRow {
        location: location.to_string(),
        derivative,
        row_kind,
        security: value_at(e, &["securityTitle"]),
        ts_event,
        code,
        acquired_disposed: value_at(
            e,
            &["transactionAmounts", "transactionAcquiredDisposedCode"],
        ),
        shares: number(e, &["transactionAmounts", "transactionShares"])?,
        price: number(e, &["transactionAmounts", "transactionPricePerShare"])?,
        shares_after: number(
            e,
            &["postTransactionAmounts", "sharesOwnedFollowingTransaction"],
        )?,
        ownership: value_at(e, &["ownershipNature", "directOrIndirectOwnership"]),
        exercise_price: number(e, &["conversionOrExercisePrice"])?,
        underlying_shares: number(e, &["underlyingSecurity", "underlyingSecurityShares"])?,
        footnotes: (!cited.is_empty()).then(|| cited.join(" | ")),
    })
}

/// Yahoo's quoteSummary `insiderTransactions` (a summary of Form 4s: filer, relation, date,
/// shares, value and a text such as "Sale at price 226.35 per share."). The code is read off the
/// text (Sale → S, Purchase → P, Stock Gift → G, Stock Award → A, Conversion of Exercise /
/// Option Exercise → M; else none) and the price when the text gives one; the text is kept as the
/// row's note. Each transaction is its own record (Yahoo gives no accession number: the record's
/// id is the hash of its fields).
pub fn decode_yahoo_insider(
    bytes: &[u8],
    symbol: &str,
    source: &str,
    clock: &dyn Clock,
) -> Result<Vec<(Filing, Vec<QuarantineRecord>)>> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let list = v
        .pointer("/quoteSummary/result/0/insiderTransactions/transactions")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| Error::Input {
            location: source.to_string(),
            reason: "no quoteSummary insiderTransactions.transactions".into(),
        })?;
    let now = clock.now();
    let raw_num = |t: &serde_json::Value, k: &str| {
        t.get(k)
            .and_then(|x| x.get("raw").unwrap_or(x).as_f64())
            .filter(|x| x.is_finite())
    };
    let mut out = vec![];
    for (i, t) in list.iter().enumerate() {
        let location = format!("insiderTransactions.transactions[{i}]");
        let s = |k: &str| {
            t.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        };
        let date = t
            .get("startDate")
            .and_then(|d| d.get("raw").unwrap_or(d).as_i64())
            .and_then(Timestamp::from_secs);
        let (Some(name), Some(ts_event)) = (s("filerName"), date) else {
            let q = QuarantineRecord::new(
                source,
                "insider_trades",
                location,
                "filerName/startDate: missing",
                t.to_string(),
                "json",
                now,
            );
            out.push((Filing::default(), vec![q]));
            continue;
        };
        let text = s("transactionText");
        let lower = text.as_deref().unwrap_or("").to_ascii_lowercase();
        let code = [
            ("sale", "S"),
            ("purchase", "P"),
            ("stock gift", "G"),
            ("stock award", "A"),
            ("conversion of exercise", "M"),
            ("option exercise", "M"),
        ]
        .iter()
        .find(|(p, _)| lower.starts_with(p))
        .map(|(_, c)| c.to_string());
        let price = lower
            .split_once("at price ")
            .and_then(|(_, rest)| rest.split_once(" per share"))
            .and_then(|(p, _)| p.trim().parse::<f64>().ok());
        let relation = s("filerRelation").unwrap_or_default();
        let rel = relation.to_ascii_lowercase();
        let shares = raw_num(t, "shares");
        let id = crate::news::sha_hex(&[
            symbol,
            &name,
            &ts_event.as_nanos().to_string(),
            &shares.map(|x| x.to_string()).unwrap_or_default(),
            text.as_deref().unwrap_or(""),
            &raw_num(t, "value")
                .map(|x| x.to_string())
                .unwrap_or_default(),
        ]);
        let filing = Filing {
            accession: format!("yahoo:{}", &id[..20]),
            form: "4".into(),
            issuer_cik: String::new(),
            issuer_name: None,
            symbol: Some(symbol.to_string()),
            owner_cik: String::new(),
            owner_names: name,
            is_director: rel.contains("director"),
            is_officer: !rel.contains("director")
                && !rel.contains("beneficial owner")
                && !rel.is_empty(),
            is_ten_percent_owner: rel.contains("beneficial owner"),
            is_other: false,
            officer_title: (!rel.contains("director") && !rel.contains("beneficial owner"))
                .then_some(relation)
                .filter(|r| !r.is_empty()),
            filed: None,
            rows: vec![InsiderRow {
                location,
                derivative: false,
                row_kind: "transaction",
                security: None,
                ts_event,
                acquired_disposed: code.as_deref().map(|c| match c {
                    "S" | "G" => "D".to_string(),
                    _ => "A".to_string(),
                }),
                code,
                shares,
                price,
                shares_after: None,
                ownership: s("ownership"),
                exercise_price: None,
                underlying_shares: None,
                footnotes: text,
            }],
        };
        out.push((filing, vec![]));
    }
    Ok(out)
}
