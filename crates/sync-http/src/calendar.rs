//! Group calendars: fetch an ICS URL safely (http, https or webcal; 10 s; 5 MB; no private
//! address unless allowed; no redirect); the engine parses its events and keeps them per group.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use reqwest::Url;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth};
use crate::state::{blocking, AppState};

/// How long a calendar fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest calendar accepted.
pub const MAX_CALENDAR_BYTES: usize = 5 * 1024 * 1024;

/// Whether an address is loopback, private, link-local or otherwise not a public host.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The URL to fetch: `webcal` becomes `http` (`webcals` becomes `https`); other schemes
/// than http and https are refused.
pub fn calendar_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    let rewritten = if lower.starts_with("webcal://") {
        format!("http://{}", &raw["webcal://".len()..])
    } else if lower.starts_with("webcals://") {
        format!("https://{}", &raw["webcals://".len()..])
    } else {
        raw.to_owned()
    };
    let url = Url::parse(&rewritten).map_err(|e| format!("calendarUrl is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "calendarUrl scheme {other} is not http, https or webcal"
            ))
        }
    }
    if url.host().is_none() {
        return Err("calendarUrl has no host".to_owned());
    }
    Ok(url)
}

/// Fetches a calendar's text.
pub async fn fetch(raw_url: &str, allow_private: bool) -> Result<String, String> {
    let url = calendar_url(raw_url)?;
    let port = url.port_or_known_default().unwrap_or(80);
    let host = url.host_str().ok_or("calendarUrl has no host")?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match literal {
        Ok(ip) => (None, vec![SocketAddr::new(ip, port)]),
        Err(_) => {
            let lookup = tokio::net::lookup_host((host, port));
            let addrs = tokio::time::timeout(FETCH_TIMEOUT, lookup)
                .await
                .map_err(|_| format!("resolving {host} timed out"))?
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .collect();
            (Some(host.to_owned()), addrs)
        }
    };
    if addrs.is_empty() {
        return Err("the calendar host has no address".to_owned());
    }
    if !allow_private {
        if let Some(addr) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(format!(
                "the calendar host resolves to {}, a loopback, private or link-local address, \
                 which this server does not fetch",
                addr.ip()
            ));
        }
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .no_proxy();
    if let Some(domain) = &domain {
        // Connect to the addresses checked above, not to a second lookup's answer.
        builder = builder.resolve_to_addrs(domain, &addrs);
    }
    let client = builder
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("the calendar could not be fetched: {}", describe(&e)))?;
    let status = response.status();
    if status.is_redirection() {
        return Err(format!(
            "the calendar URL answered {status}: redirects are not followed"
        ));
    }
    if !status.is_success() {
        return Err(format!("the calendar URL answered {status}"));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_CALENDAR_BYTES as u64)
    {
        return Err(format!(
            "the calendar is larger than {} MB",
            MAX_CALENDAR_BYTES >> 20
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the calendar could not be read: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_CALENDAR_BYTES {
            return Err(format!(
                "the calendar is larger than {} MB",
                MAX_CALENDAR_BYTES >> 20
            ));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the calendar is not UTF-8 text".to_owned())
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        format!("no answer within {} s", FETCH_TIMEOUT.as_secs())
    } else if err.is_connect() {
        "the host refused or did not accept the connection".to_owned()
    } else {
        err.to_string()
    }
}

pub use crate::wire::CalendarRequest;

/// Fetches a group's calendar and replaces its stored events.
#[utoipa::path(post, path = "/api/sync/v1/calendar-group-ics", tag = "calendars",
    request_body(content = crate::wire::CalendarRequest, content_type = "application/json"),
    responses((status = 200, description = "the calendar is fetched and its events kept", body = crate::wire::CalendarRegistered),
              (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where); or a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody),
              (status = 404, description = "no active contract has this codeGroupe (`not_found`)", body = crate::openapi::ErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody),
              (status = 422, description = "the calendar could not be fetched or is not iCalendar (`calendar_unusable`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_calendar(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<CalendarRequest>,
) -> Result<Json<crate::wire::CalendarRegistered>, ApiError> {
    let group = request.group_id.trim().to_owned();
    let (engine, checked) = (state.engine.clone(), group.clone());
    blocking(move || Ok(engine.check_calendar_group(tenant.id, &checked)?)).await?;
    let text = fetch(&request.calendar_url, state.settings.calendar_allow_private)
        .await
        .map_err(ApiError::Calendar)?;
    let engine = state.engine.clone();
    let answer = blocking(move || {
        let kept = engine.register_calendar(tenant.id, &group, &text)?;
        Ok(crate::wire::CalendarRegistered {
            group_id: group,
            events: kept.events,
            from: kept.from,
            to: kept.to,
        })
    })
    .await?;
    Ok(Json(answer))
}

/// The stored events of a group, by start.
#[utoipa::path(get, path = "/api/sync/v1/calendar-group-ics/{groupId}", tag = "calendars",
    params(("groupId" = String, Path, description = "the codeGroupe")),
    responses((status = 200, description = "the group's stored events, by start (none for a group without a calendar)", body = crate::wire::CalendarEvents),
              (status = 400, description = "a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_calendar(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Path(group): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    blocking(move || {
        let events = store.events(tenant.id, &group)?;
        Ok(Json(json!({"groupId": group, "events": events})))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        let check =
            |ip: &str, private: bool| assert_eq!(is_private(ip.parse().unwrap()), private, "{ip}");
        check("127.0.0.1", true);
        check("10.1.2.3", true);
        check("172.16.0.1", true);
        check("192.168.1.1", true);
        check("169.254.169.254", true);
        check("100.64.0.1", true);
        check("0.0.0.0", true);
        check("8.8.8.8", false);
        check("::1", true);
        check("fd00::1", true);
        check("fe80::1", true);
        check("::ffff:127.0.0.1", true);
        check("2001:4860::1", false);
    }

    #[test]
    fn urls() {
        let check = |raw: &str, expected: Result<&str, ()>| {
            assert_eq!(
                calendar_url(raw).map(|u| u.to_string()).map_err(|_| ()),
                expected.map(str::to_owned),
                "{raw}"
            );
        };
        check("webcal://example.org/a.ics", Ok("http://example.org/a.ics"));
        check(
            "WEBCALS://example.org/a.ics",
            Ok("https://example.org/a.ics"),
        );
        check("https://example.org/a.ics", Ok("https://example.org/a.ics"));
        check("ftp://example.org/a.ics", Err(()));
        check("file:///etc/passwd", Err(()));
        check("not a url", Err(()));
    }
}
