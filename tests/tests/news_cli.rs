//! News and sentiment end to end through the CLI: aliases, EDGAR over HTTP (a loopback server
//! replaying the recorded feed), Yahoo search and feed files; quarantine with reasons; re-ingest
//! adds nothing; `sentiment build` scores every row once, with the scores `sentiment score` gives.

mod common;

use common::{ReplayServer, elite, fixture, json, sql_json, sql_scalar};

fn count(home: &std::path::Path, q: &str) -> i64 {
    sql_scalar(home, q).as_i64().unwrap()
}

#[test]
fn news_lands_tagged_once_and_scored_once() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let aliases = h.join("aliases.csv");
    std::fs::write(
        &aliases,
        "symbol,alias,kind\nHNGE,0001673743,cik\nAAPL,Apple Inc,name\nACME,Acme Corp,name\nX,,name\nY,foo,bogus\n",
    )
    .unwrap();
    let r = json(h, &["ingest", "aliases", aliases.to_str().unwrap()]);
    assert_eq!(
        (r[0]["rows_added"].as_i64(), r[0]["quarantined"].as_i64()),
        (Some(3), Some(2))
    );
    let q = sql_json(
        h,
        "SELECT location, reason FROM quarantine ORDER BY location",
    );
    assert_eq!(q[0]["location"], "line 5");
    assert!(q[1]["reason"].as_str().unwrap().contains("bogus"), "{q:?}");

    // EDGAR's Atom feed over HTTP, as a backfill (known a minute after filing).
    let body = std::fs::read(fixture("news/sec_edgar_getcurrent_form4_atom_start0.xml")).unwrap();
    let server = ReplayServer::start(vec![(200, body)]);
    let url = format!(
        "{}/cgi-bin/browse-edgar?action=getcurrent&type=4&output=atom",
        server.base
    );
    let r = json(
        h,
        &[
            "ingest",
            "news",
            &url,
            "--provider",
            "edgar",
            "--backfill-delay",
            "60",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(100));
    let hinge = sql_json(
        h,
        "SELECT title, tagged_by, CAST(ts_event AS VARCHAR) e, CAST(ts_recv AS VARCHAR) r FROM news WHERE symbol = 'HNGE'",
    );
    assert_eq!(hinge.len(), 1, "{hinge:?}");
    assert_eq!(
        hinge[0]["title"],
        "4 - Hinge Health, Inc. (0001673743) (Issuer)"
    );
    assert_eq!(hinge[0]["tagged_by"], "provider:cik:0001673743");
    assert_eq!(hinge[0]["e"], "2025-12-12T23:02:43Z");
    assert_eq!(hinge[0]["r"], "2025-12-12T23:03:43Z");
    // Issuers without an alias stay untagged (a CIK is not a symbol).
    assert_eq!(count(h, "SELECT count(*) FROM news WHERE symbol = ''"), 99);

    // Yahoo search: relatedTickers are symbols; the same file again adds nothing.
    let yahoo = fixture("news/yahoo_search_AAPL.json");
    let y = yahoo.to_str().unwrap();
    let r = json(
        h,
        &[
            "ingest",
            "news",
            y,
            "--provider",
            "yahoo",
            "--backfill-delay",
            "60",
        ],
    );
    assert_eq!(r[0]["rows_added"].as_i64(), Some(4));
    let r = json(
        h,
        &[
            "ingest",
            "news",
            y,
            "--provider",
            "yahoo",
            "--backfill-delay",
            "60",
        ],
    );
    assert_eq!(r[0]["skipped_already_ingested"].as_bool(), Some(true));
    assert_eq!(
        count(h, "SELECT count(*) FROM news WHERE symbol = 'AAPL'"),
        3
    );
    assert_eq!(
        count(h, "SELECT count(*) FROM news WHERE symbol = 'BRK-B'"),
        1
    );

    // A feed with bad items: no title/description and a date in 2100 are quarantined with their
    // entry; the same article under a tracked URL lands once; the undated one is dated on arrival.
    let bad = fixture("news/rss2_bad_items.xml");
    let r = json(h, &["ingest", "news", bad.to_str().unwrap()]);
    assert_eq!(r[0]["rows_read"].as_i64(), Some(5));
    assert_eq!(r[0]["quarantined"].as_i64(), Some(2));
    assert_eq!(r[0]["rows_added"].as_i64(), Some(2));
    let q = sql_json(
        h,
        "SELECT location, reason FROM quarantine WHERE target_table = 'news' ORDER BY location",
    );
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q[0]["location"], "entry 2");
    assert!(q[0]["reason"].as_str().unwrap().starts_with("title"));
    assert_eq!(q[1]["location"], "entry 4");
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .contains("after it was received")
    );
    let acme = sql_json(
        h,
        "SELECT url, summary, tagged_by FROM news WHERE symbol = 'ACME'",
    );
    assert_eq!(acme.len(), 1, "{acme:?}");
    assert_eq!(acme[0]["url"], "https://example.com/news/acme-beats");
    assert_eq!(acme[0]["summary"], "Acme Corp reported record profit.");
    assert_eq!(acme[0]["tagged_by"], "cashtag:$ACME");
    assert_eq!(
        count(
            h,
            "SELECT count(*) FROM news WHERE title = 'No date at all' AND ts_event = ts_recv"
        ),
        1
    );

    // Score every row once; a second pass scores nothing.
    let total = count(h, "SELECT count(*) FROM news");
    let r = json(h, &["sentiment", "build", "--scorer", "vader"]);
    assert_eq!(r[0]["rows_scored"].as_i64(), Some(total));
    let r = json(h, &["sentiment", "build", "--scorer", "vader"]);
    assert_eq!(
        (
            r[0]["rows_scored"].as_i64(),
            r[0]["rows_already_scored"].as_i64()
        ),
        (Some(0), Some(total))
    );
    // The stored score is the one `sentiment score` gives for the same text, and keeps the item's times.
    let row = &sql_json(
        h,
        "SELECT n.title, s.score, s.ts_recv = n.ts_recv same_recv FROM news n JOIN sentiment s \
         ON s.item_id = n.id AND s.content_hash = n.content_hash AND s.symbol = n.symbol \
         WHERE n.symbol = 'BRK-B'",
    )[0];
    assert_eq!(row["same_recv"], true);
    let text = row["title"].as_str().unwrap();
    let scored = json(h, &["sentiment", "score", text]);
    assert_eq!(scored[0]["compound"], row["score"], "{text}");
}

#[test]
fn sentiment_score_reads_stdin_and_refuses_lm_without_a_dictionary() {
    let home = tempfile::tempdir().unwrap();
    let out = elite(home.path())
        .args(["--format", "csv", "sentiment", "score"])
        .write_stdin("The book was good.\nA really bad, horrible book.\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // Python vaderSentiment 3.3.2 (pipelines/text/tests/data/vader_reference.csv).
    assert!(
        text.contains("The book was good.,vader-3.3.2,positive,0.0,0.508,0.492,0.4404"),
        "{text}"
    );
    assert!(text.contains("negative,0.716,0.284,0.0,-0.8211"), "{text}");
    let out = elite(home.path())
        .args(["sentiment", "score", "--scorer", "lm", "x"])
        .env_remove("ELITE_LM_DICTIONARY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lm-dictionary"));
}

fn tiny_finbert() -> std::path::PathBuf {
    common::fixtures().join("../../pipelines/onnx/golden/tiny_finbert")
}

/// The `finbert` scorer through the CLI: texts on stdin score as Python onnxruntime scored them
/// (pipelines/onnx/golden/tiny_finbert_reference.json, a small random-weight BERT: the numbers
/// are a parity check, not sentiment); `sentiment build` scores the news table once under the
/// model's own version; `sentiment eval` runs it beside VADER.
#[test]
fn finbert_scores_texts_and_news_like_python_onnxruntime() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let model = tiny_finbert();
    let m = model.to_str().unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(model.join("../tiny_finbert_reference.json")).unwrap(),
    )
    .unwrap();
    let rows: Vec<&serde_json::Value> = reference["rows"].as_array().unwrap()[40..46]
        .iter()
        .collect();
    let stdin: String = rows
        .iter()
        .map(|r| format!("{}\n", r["text"].as_str().unwrap()))
        .collect();
    let out = elite(h)
        .args([
            "--format",
            "json",
            "sentiment",
            "score",
            "--scorer",
            "finbert",
        ])
        .args(["--finbert-model", m])
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), rows.len());
    let version = got[0]["scorer"].as_str().unwrap().to_string();
    assert!(version.starts_with("finbert-"), "{version}");
    for (g, r) in got.iter().zip(&rows) {
        assert_eq!(g["text"], r["text"]);
        for k in ["negative", "neutral", "positive"] {
            let (a, b) = (g[k].as_f64().unwrap(), r[k].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-5, "{k} of {}: {a} vs {b}", r["text"]);
        }
        assert_eq!(
            g["tokens"].as_f64().unwrap() as usize,
            r["ids"].as_array().unwrap().len()
        );
    }

    // News scored into the sentiment table under the model's version, once.
    let yahoo = fixture("news/yahoo_search_AAPL.json");
    json(
        h,
        &[
            "ingest",
            "news",
            yahoo.to_str().unwrap(),
            "--provider",
            "yahoo",
        ],
    );
    let build = [
        "sentiment",
        "build",
        "--scorer",
        "finbert",
        "--finbert-model",
        m,
    ];
    let r = json(h, &build);
    assert_eq!(r[0]["version"].as_str(), Some(version.as_str()));
    let scored = r[0]["rows_scored"].as_i64().unwrap();
    assert!(scored >= 4, "{r}");
    assert_eq!(
        json(h, &build)[0]["rows_already_scored"].as_i64(),
        Some(scored)
    );
    let n = count(
        h,
        &format!(
            "SELECT count(*) FROM sentiment WHERE version = '{version}' AND scorer = 'finbert'"
        ),
    );
    assert_eq!(n, scored);
    let row = &sql_json(
        h,
        &format!(
            "SELECT n.title, n.summary, s.score, s.label FROM news n JOIN sentiment s ON s.item_id = n.id \
             AND s.symbol = n.symbol WHERE s.version = '{version}' ORDER BY n.title LIMIT 1"
        ),
    )[0];
    let text = match row["summary"].as_str() {
        Some(s) => format!("{} {s}", row["title"].as_str().unwrap()),
        None => row["title"].as_str().unwrap().to_string(),
    };
    let again = json(
        h,
        &[
            "sentiment",
            "score",
            "--scorer",
            "finbert",
            "--finbert-model",
            m,
            &text,
        ],
    );
    assert_eq!(again[0]["score"], row["score"]);
    assert_eq!(again[0]["label"], row["label"]);

    // Evaluation beside VADER on labelled sentences.
    let labelled = h.join("labelled.csv");
    std::fs::write(
        &labelled,
        "sentence,label\nThe book was good.,positive\nOperating loss widened.,negative\nThe meeting is on Monday.,neutral\n",
    )
    .unwrap();
    let e = json(
        h,
        &[
            "sentiment",
            "eval",
            labelled.to_str().unwrap(),
            "--scorer",
            "vader",
            "--scorer",
            "finbert",
            "--finbert-model",
            m,
        ],
    );
    assert_eq!(e.as_array().unwrap().len(), 2);
    assert_eq!(e[1]["scorer"].as_str(), Some(version.as_str()));
    assert_eq!(e[1]["sentences"].as_i64(), Some(3));
}
