//! Fixed-window rate limits per principal (or client address when anonymous): the model's
//! `@@rateLimit`, else `RATE_LIMIT` per `RATE_LIMIT_WINDOW` seconds; 0 turns the default off.
//! The same windows as the TypeScript server's limiter (rate-limiter-flexible's fixed window):
//! a window starts with a key's first request, and `Retry-After` is what is left of it. With
//! `REDIS_URL` (feature `redis`) the counters live in Redis under the TypeScript server's keys,
//! shared by every instance of either server.

use super::problem::HttpError;
use crate::schema::Model;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct RateLimits {
    default_limit: u32,
    default_window: Duration,
    windows: Mutex<HashMap<(String, String), (Instant, u32)>>,
    /// With `REDIS_URL`: counters shared by every instance, TypeScript ones included.
    #[cfg(feature = "redis")]
    redis: Option<redis::aio::ConnectionManager>,
    /// `RATE_LIMIT_FAIL=closed`: while Redis cannot count, 503 instead of counting in memory.
    #[cfg(feature = "redis")]
    fail_closed: bool,
    /// After Redis failed, it is not asked again before this (milliseconds since `started`): a
    /// Redis that is away costs one request its 500 ms wait per second, not every request.
    #[cfg(feature = "redis")]
    redis_retry_at: std::sync::atomic::AtomicU64,
    #[cfg(feature = "redis")]
    started: Instant,
}

/// rate-limiter-flexible's `RateLimiterRedis` script: a window starts with a key's first
/// request and lasts its duration; returns the count so far and the window's milliseconds left.
#[cfg(feature = "redis")]
const INCR_TTL: &str = "redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX') \
local consumed = redis.call('incrby', KEYS[1], ARGV[1]) \
local ttl = redis.call('pttl', KEYS[1]) \
if ttl == -1 then \
  redis.call('expire', KEYS[1], ARGV[2]) \
  ttl = 1000 * ARGV[2] \
end \
return {consumed, ttl}";

impl RateLimits {
    pub(crate) fn new(default_limit: u32, default_window_seconds: u32) -> Self {
        RateLimits {
            default_limit,
            default_window: Duration::from_secs(default_window_seconds.into()),
            windows: Mutex::new(HashMap::new()),
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            fail_closed: false,
            #[cfg(feature = "redis")]
            redis_retry_at: std::sync::atomic::AtomicU64::new(0),
            #[cfg(feature = "redis")]
            started: Instant::now(),
        }
    }

    /// Counts in Redis under the TypeScript server's keys (`ssot:rl:<Model>:<key>`), so that
    /// instances of both share one limit; while Redis cannot be reached, each counts in memory.
    #[cfg(feature = "redis")]
    pub(crate) fn with_redis(mut self, conn: redis::aio::ConnectionManager, fail_closed: bool) -> Self {
        self.redis = Some(conn);
        self.fail_closed = fail_closed;
        self
    }

    /// Counts one request of `key` to `m`; 429 with `Retry-After` over the limit.
    pub(crate) async fn consume(&self, m: &Model, key: &str) -> Result<(), HttpError> {
        let (limit, window) = match &m.rate_limit {
            Some(r) => (r.limit, Duration::from_secs(r.window_seconds.into())),
            None => (self.default_limit, self.default_window),
        };
        if limit == 0 {
            return Ok(());
        }
        #[cfg(feature = "redis")]
        if let Some(conn) = &self.redis {
            use std::sync::atomic::Ordering;
            let now_ms = self.started.elapsed().as_millis() as u64;
            if now_ms < self.redis_retry_at.load(Ordering::Relaxed) {
                if self.fail_closed {
                    return Err(unavailable());
                }
                return self.count_here(m, key, limit, window);
            }
            let mut conn = conn.clone();
            // Hashed once: the script is sent by its SHA (EVALSHA) after the first call.
            static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(INCR_TTL));
            let mut invocation = SCRIPT.key(format!("ssot:rl:{}:{key}", m.name));
            invocation.arg(1).arg(window.as_secs());
            let call = invocation.invoke_async::<(i64, i64)>(&mut conn);
            // No request waits on an unreachable Redis: it is counted here instead.
            match tokio::time::timeout(Duration::from_millis(500), call).await {
                Ok(Ok((consumed, ttl))) => {
                    return if consumed <= i64::from(limit) { Ok(()) } else { Err(too_many(Duration::from_millis(ttl.max(0) as u64))) };
                }
                Ok(Err(e)) if self.fail_closed => tracing::warn!(error = %e, "redis: rate limit refused (RATE_LIMIT_FAIL=closed)"),
                Ok(Err(e)) => tracing::warn!(error = %e, "redis: rate limit counted in memory"),
                Err(_) => tracing::warn!("redis: rate limit counted in memory (timeout)"),
            }
            self.redis_retry_at.store(self.started.elapsed().as_millis() as u64 + 1000, Ordering::Relaxed);
            if self.fail_closed {
                return Err(unavailable());
            }
        }
        self.count_here(m, key, limit, window)
    }

    /// Counts in this instance's memory.
    fn count_here(&self, m: &Model, key: &str, limit: u32, window: Duration) -> Result<(), HttpError> {
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
        Err(too_many(window.saturating_sub(now.duration_since(entry.0))))
    }
}

/// `RATE_LIMIT_FAIL=closed` while Redis cannot count.
#[cfg(feature = "redis")]
fn unavailable() -> HttpError {
    HttpError::new(503, "Rate limits cannot be counted right now.").with_header("retry-after", "1")
}

fn too_many(left: Duration) -> HttpError {
    let seconds = left.as_millis().div_ceil(1000).max(1);
    HttpError::new(429, format!("Too many requests; retry in {seconds} s.")).with_header("retry-after", seconds.to_string())
}
