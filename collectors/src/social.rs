//! Social posts: Reddit listings (`/r/<sub>/new.json`, `/search.json`: `t3` posts) and comment
//! trees (`/comments/<id>.json`: `[post listing, comment listing]`, `t1` comments with nested
//! `replies`), and X API v2 (`/2/tweets/search/recent`, `/2/tweets?ids=`: `data[]`, with
//! `includes.users` for usernames).
//!
//! `ts_event` is the post's creation time: Reddit's `created_utc`; X's `created_at`, or when the
//! request did not ask for it, the time encoded in the tweet id (X's snowflake ids carry their
//! creation time in milliseconds: `(id >> 22) + 1288834974657`). A post without an id, or without
//! any time, is quarantined with its location.

use elite_warehouse::{Clock, QuarantineRecord, Timestamp};
use serde_json::Value;

use crate::{Error, Result};

/// One decoded post or comment (before tagging).
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// `reddit:t3_48fbm9`, `x:1578516068309794817`.
    pub id: String,
    pub platform: &'static str,
    /// Subreddit, or `None` for X.
    pub community: Option<String>,
    pub author: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub ts_event: Timestamp,
    pub score: Option<f64>,
    pub replies: Option<f64>,
    pub url: Option<String>,
    /// Hash of title + text: an edited post is a new revision.
    pub content_hash: String,
    pub location: String,
}

/// What a social payload decoded to.
#[derive(Debug, Default)]
pub struct DecodedPosts {
    pub posts: Vec<Post>,
    pub quarantine: Vec<QuarantineRecord>,
    pub rows_read: usize,
}

/// X's epoch of snowflake ids (2010-11-04T01:42:54.657Z), in milliseconds.
const TWEPOCH_MS: i64 = 1_288_834_974_657;

/// The creation time encoded in an X (Twitter) snowflake id; `None` for ids from before
/// snowflakes (2010) or not numeric.
pub fn snowflake_time(id: &str) -> Option<Timestamp> {
    let n: u64 = id.parse().ok()?;
    let ms = i64::try_from(n >> 22).ok()?.checked_add(TWEPOCH_MS)?;
    (n >> 22 > 0).then(|| Timestamp::from_millis(ms)).flatten()
}

fn refuse(
    out: &mut DecodedPosts,
    source: &str,
    location: String,
    reason: String,
    raw: &Value,
    now: Timestamp,
) {
    out.quarantine.push(QuarantineRecord::new(
        source,
        "social_posts",
        location,
        reason,
        raw.to_string(),
        "json",
        now,
    ));
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn reddit_thing(
    out: &mut DecodedPosts,
    thing: &Value,
    location: String,
    source: &str,
    now: Timestamp,
) {
    let kind = thing.get("kind").and_then(Value::as_str).unwrap_or("");
    let d = thing.get("data").unwrap_or(&Value::Null);
    match kind {
        "Listing" => {
            let children = d.get("children").and_then(Value::as_array);
            for (i, c) in children.into_iter().flatten().enumerate() {
                reddit_thing(out, c, format!("{location}.children[{i}]"), source, now);
            }
            return;
        }
        // "more": a pointer to comments not in this payload, not a post.
        "more" => return,
        "t3" | "t1" => {}
        other => {
            out.rows_read += 1;
            refuse(
                out,
                source,
                location,
                format!("kind: {other:?} is not a post (t3) or comment (t1)"),
                thing,
                now,
            );
            return;
        }
    }
    out.rows_read += 1;
    let Some(name) = s(d, "name") else {
        refuse(out, source, location, "name: missing".into(), thing, now);
        return;
    };
    let Some(ts) = d
        .get("created_utc")
        .and_then(Value::as_f64)
        .and_then(|t| Timestamp::from_millis((t * 1000.0).round() as i64))
    else {
        refuse(
            out,
            source,
            location,
            "created_utc: missing or not a time".into(),
            thing,
            now,
        );
        return;
    };
    let (title, text) = if kind == "t3" {
        (s(d, "title"), s(d, "selftext").unwrap_or_default())
    } else {
        (None, s(d, "body").unwrap_or_default())
    };
    let content_hash = crate::news::sha_hex(&[title.as_deref().unwrap_or(""), &text]);
    out.posts.push(Post {
        content_hash,
        id: format!("reddit:{name}"),
        platform: "reddit",
        community: s(d, "subreddit"),
        author: s(d, "author"),
        title,
        text,
        ts_event: ts,
        score: d.get("score").and_then(Value::as_f64),
        replies: d.get("num_comments").and_then(Value::as_f64),
        url: s(d, "permalink").map(|p| format!("https://www.reddit.com{p}")),
        location: location.clone(),
    });
    if let Some(replies) = d.get("replies").filter(|r| r.is_object()) {
        reddit_thing(out, replies, format!("{location}.replies"), source, now);
    }
}

/// A Reddit listing, or a comments page (an array of listings).
pub fn decode_reddit(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedPosts> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not Reddit JSON: {e}"),
    })?;
    let now = clock.now();
    let mut out = DecodedPosts::default();
    match &v {
        Value::Array(listings) => {
            for (i, l) in listings.iter().enumerate() {
                reddit_thing(&mut out, l, format!("[{i}]"), source, now);
            }
        }
        Value::Object(_) if v.get("kind").is_some() => {
            reddit_thing(&mut out, &v, String::new(), source, now)
        }
        _ => {
            return Err(Error::Input {
                location: source.to_string(),
                reason: "not a Reddit listing (no `kind`)".into(),
            });
        }
    }
    Ok(out)
}

/// An X API v2 tweets response (`data[]`, optional `includes.users`), or a v1.1
/// `search/tweets` response (`statuses[]`, `created_at` like `Fri Jul 12 23:40:37 +0000 2019`).
pub fn decode_x(bytes: &[u8], source: &str, clock: &dyn Clock) -> Result<DecodedPosts> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Input {
        location: source.to_string(),
        reason: format!("not X API JSON: {e}"),
    })?;
    if let Some(statuses) = v.get("statuses").and_then(Value::as_array) {
        return Ok(decode_x_v1(statuses, source, clock.now()));
    }
    if v.get("data").is_none()
        && let Some(errors) = v.get("errors").or_else(|| v.get("title"))
    {
        return Err(Error::Api {
            source_name: "x",
            status: None,
            message: errors.to_string(),
        });
    }
    let now = clock.now();
    let users: std::collections::HashMap<String, String> = v
        .pointer("/includes/users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|u| Some((s(u, "id")?, s(u, "username")?)))
        .collect();
    let mut out = DecodedPosts::default();
    let data = v.get("data").and_then(Value::as_array);
    for (i, t) in data.into_iter().flatten().enumerate() {
        out.rows_read += 1;
        let location = format!("data[{i}]");
        let Some(id) = s(t, "id") else {
            refuse(&mut out, source, location, "id: missing".into(), t, now);
            continue;
        };
        let ts = match s(t, "created_at") {
            Some(c) => Timestamp::parse_rfc3339(&c).ok(),
            None => snowflake_time(&id),
        };
        let Some(ts) = ts else {
            refuse(
                &mut out,
                source,
                location,
                "created_at: missing or not RFC 3339, and the id is not a snowflake".into(),
                t,
                now,
            );
            continue;
        };
        let author = s(t, "author_id").map(|a| users.get(&a).cloned().unwrap_or(a));
        let metric = |k: &str| {
            t.pointer(&format!("/public_metrics/{k}"))
                .and_then(Value::as_f64)
        };
        let text = s(t, "text").unwrap_or_default();
        out.posts.push(Post {
            content_hash: crate::news::sha_hex(&["", &text]),
            url: Some(format!("https://x.com/i/web/status/{id}")),
            id: format!("x:{id}"),
            platform: "x",
            community: None,
            author,
            title: None,
            text,
            ts_event: ts,
            score: metric("like_count"),
            replies: metric("reply_count"),
            location,
        });
    }
    Ok(out)
}

fn decode_x_v1(statuses: &[Value], source: &str, now: Timestamp) -> DecodedPosts {
    let mut out = DecodedPosts::default();
    for (i, t) in statuses.iter().enumerate() {
        out.rows_read += 1;
        let location = format!("statuses[{i}]");
        let id = s(t, "id_str");
        let ts = s(t, "created_at")
            .and_then(|c| chrono::DateTime::parse_from_str(&c, "%a %b %d %H:%M:%S %z %Y").ok())
            .and_then(|d| Timestamp::from_datetime(&d))
            .or_else(|| id.as_deref().and_then(snowflake_time));
        let (Some(id), Some(ts)) = (id, ts) else {
            refuse(
                &mut out,
                source,
                location,
                "id_str/created_at: missing or not readable".into(),
                t,
                now,
            );
            continue;
        };
        let text = s(t, "full_text")
            .or_else(|| s(t, "text"))
            .unwrap_or_default();
        out.posts.push(Post {
            content_hash: crate::news::sha_hex(&["", &text]),
            url: Some(format!("https://x.com/i/web/status/{id}")),
            id: format!("x:{id}"),
            platform: "x",
            community: None,
            author: t
                .pointer("/user/screen_name")
                .and_then(Value::as_str)
                .map(str::to_string),
            title: None,
            text,
            ts_event: ts,
            score: t.get("favorite_count").and_then(Value::as_f64),
            replies: t.get("reply_count").and_then(Value::as_f64),
            location,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflake_ids_carry_their_time() {
        // X's documentation example: id 1212092628029698048, created_at 2019-12-31T19:26:16.000Z
        // (created_at is given to the second; the id holds the milliseconds: .771).
        let t = snowflake_time("1212092628029698048").unwrap();
        assert_eq!(t.as_nanos(), 1_577_820_376_771_000_000);
        assert!(snowflake_time("12345").is_none());
        assert!(snowflake_time("abc").is_none());
    }

    #[test]
    fn v1_search_tweets_from_the_recorded_response() {
        let body = std::fs::read(format!(
            "{}/fixtures/social/v1.1_search_tweets.json",
            std::env::var("CARGO_MANIFEST_DIR").unwrap()
        ))
        .unwrap();
        let clock = elite_warehouse::FixedClock(Timestamp::from_nanos(0));
        let d = decode_x(&body, "x:v1", &clock).unwrap();
        assert_eq!(
            (d.rows_read, d.posts.len(), d.quarantine.len()),
            (15, 15, 0)
        );
        let p = &d.posts[0];
        assert_eq!(p.id, "x:1149825924029980674");
        assert_eq!(p.author.as_deref(), Some("tweepy_pie"));
        // created_at "Fri Jul 12 23:40:37 +0000 2019"; the id's snowflake time agrees to the second.
        assert_eq!(p.ts_event.as_nanos(), 1_562_974_837_000_000_000);
        let snow = snowflake_time("1149825924029980674").unwrap().as_nanos();
        assert_eq!(snow / 1_000_000_000, 1_562_974_837);
    }
}
