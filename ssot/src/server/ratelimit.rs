//! Fixed-window rate limits per principal (or client address when anonymous): the model's
//! `@@rateLimit`, else `RATE_LIMIT` per `RATE_LIMIT_WINDOW` seconds; 0 turns the default off.
//! The same windows as the TypeScript server's limiter (rate-limiter-flexible's fixed window):
//! a window starts with a key's first request, and `Retry-After` is what is left of it.

use super::problem::HttpError;
use crate::schema::Model;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct RateLimits {
    default_limit: u32,
    default_window: Duration,
    windows: Mutex<HashMap<(String, String), (Instant, u32)>>,
}

impl RateLimits {
    pub(crate) fn new(default_limit: u32, default_window_seconds: u32) -> Self {
        RateLimits {
            default_limit,
            default_window: Duration::from_secs(default_window_seconds.into()),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key` to `m`; 429 with `Retry-After` over the limit.
    pub(crate) fn consume(&self, m: &Model, key: &str) -> Result<(), HttpError> {
        let (limit, window) = match &m.rate_limit {
            Some(r) => (r.limit, Duration::from_secs(r.window_seconds.into())),
            None => (self.default_limit, self.default_window),
        };
        if limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window.max(self.default_window));
        }
        let entry = windows.entry((m.name.clone(), key.to_owned())).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 <= limit {
            return Ok(());
        }
        let left = window.saturating_sub(now.duration_since(entry.0));
        let seconds = left.as_millis().div_ceil(1000).max(1);
        Err(HttpError::new(429, format!("Too many requests; retry in {seconds} s.")).with_header("retry-after", seconds.to_string()))
    }
}
