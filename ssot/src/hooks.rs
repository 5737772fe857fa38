//! Business logic around the generated API: typed before/after hooks per model and operation,
//! registered on the Rust server with `Server::hooks`. Each model's `hooks()` (generated) starts
//! an empty set for its row and input types:
//!
//! ```ignore
//! let hooks = db::Post::hooks()
//!     .before_create(|ctx, input| {
//!         if input.title.contains("spam") {
//!             return Err(Reject::new(400, "No spam.").field("title", "looks like spam"));
//!         }
//!         input.slug = input.slug.to_lowercase(); // change the input
//!         Ok(())
//!     })
//!     .after_create(|ctx, post| println!("{} created post {}", ctx.principal_id().unwrap_or_default(), post.id));
//! ```
//!
//! Before hooks run after the body passed its checks and before the transaction; they may change
//! the input (which is checked again) or reject the request with a problem. After hooks run once
//! the write is committed, with the row as the caller sees it; spawn a task there for slow work.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// Who is asking, and which request this is.
#[derive(Debug, Clone)]
pub struct Context {
    /// The principal's claims (`None`: anonymous).
    pub auth: Option<Map<String, Json>>,
    pub request_id: String,
    #[cfg(feature = "server")]
    pub(crate) pool: Option<crate::server::Pool>,
}

#[cfg(feature = "server")]
impl Context {
    /// The server's database pool, for work of your own beside the write: hooks are
    /// synchronous, so an after-hook hands the query to a task
    /// (`tokio::spawn(async move { ... })`) and returns. Queries here run outside the request's
    /// transaction and outside the policies.
    pub fn pool(&self) -> Option<&crate::server::Pool> {
        self.pool.as_ref()
    }
}

impl Context {
    /// The principal's `id` claim as text.
    pub fn principal_id(&self) -> Option<String> {
        match self.auth.as_ref()?.get("id")? {
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// A hook's refusal: answered as a problem+json with this status, detail and field errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub detail: String,
    pub errors: Vec<(String, String)>,
}

impl Reject {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Reject { status, detail: detail.into(), errors: Vec::new() }
    }

    /// A field error (`path`, `message`), as in a 400 of the input checks.
    pub fn field(mut self, path: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push((path.into(), message.into()));
        self
    }
}

type Before<T> = Arc<dyn Fn(&Context, &mut T) -> Result<(), Reject> + Send + Sync>;
type After<T> = Arc<dyn Fn(&Context, &T) + Send + Sync>;

/// The hooks of one model, typed by its row `R`, create input `C` and update input `U`.
pub struct Hooks<R, C, U> {
    model: &'static str,
    before_create: Vec<Before<C>>,
    after_create: Vec<After<R>>,
    before_update: Vec<Before<U>>,
    after_update: Vec<After<R>>,
    before_delete: Vec<Before<Json>>,
    after_delete: Vec<After<Json>>,
}

impl<R, C, U> Hooks<R, C, U> {
    /// No hooks yet for `model` (the generated `Model::hooks()` calls this).
    pub fn new(model: &'static str) -> Self {
        Hooks {
            model,
            before_create: Vec::new(),
            after_create: Vec::new(),
            before_update: Vec::new(),
            after_update: Vec::new(),
            before_delete: Vec::new(),
            after_delete: Vec::new(),
        }
    }

    pub fn model(&self) -> &'static str {
        self.model
    }

    /// Before a create: check or change the input, or reject.
    pub fn before_create(mut self, f: impl Fn(&Context, &mut C) -> Result<(), Reject> + Send + Sync + 'static) -> Self {
        self.before_create.push(Arc::new(f));
        self
    }

    /// After a create committed, with the row as the caller sees it.
    pub fn after_create(mut self, f: impl Fn(&Context, &R) + Send + Sync + 'static) -> Self {
        self.after_create.push(Arc::new(f));
        self
    }

    /// Before an update: check or change the input, or reject.
    pub fn before_update(mut self, f: impl Fn(&Context, &mut U) -> Result<(), Reject> + Send + Sync + 'static) -> Self {
        self.before_update.push(Arc::new(f));
        self
    }

    /// After an update committed, with the row as the caller sees it.
    pub fn after_update(mut self, f: impl Fn(&Context, &R) + Send + Sync + 'static) -> Self {
        self.after_update.push(Arc::new(f));
        self
    }

    /// Before a delete, with the row's id as a JSON array of its id fields: reject to keep it.
    pub fn before_delete(mut self, f: impl Fn(&Context, &Json) -> Result<(), Reject> + Send + Sync + 'static) -> Self {
        self.before_delete.push(Arc::new(move |ctx, id: &mut Json| f(ctx, id)));
        self
    }

    /// After a delete committed, with the row's id.
    pub fn after_delete(mut self, f: impl Fn(&Context, &Json) + Send + Sync + 'static) -> Self {
        self.after_delete.push(Arc::new(f));
        self
    }
}

/// A request body or row as JSON, run through typed hooks.
pub(crate) type ErasedBefore = Arc<dyn Fn(&Context, &mut Json) -> Result<(), Reject> + Send + Sync>;
/// `Err` when the row does not parse as the hook's type (the server logs it).
pub(crate) type ErasedAfter = Arc<dyn Fn(&Context, &Json) -> Result<(), String> + Send + Sync>;

/// The hooks of a model with the types taken off: what the server runs.
#[derive(Clone, Default)]
pub struct ModelHooks {
    pub(crate) before_create: Vec<ErasedBefore>,
    pub(crate) after_create: Vec<ErasedAfter>,
    pub(crate) before_update: Vec<ErasedBefore>,
    pub(crate) after_update: Vec<ErasedAfter>,
    pub(crate) before_delete: Vec<ErasedBefore>,
    pub(crate) after_delete: Vec<ErasedAfter>,
}

impl std::fmt::Debug for ModelHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelHooks")
            .field("before_create", &self.before_create.len())
            .field("after_create", &self.after_create.len())
            .field("before_update", &self.before_update.len())
            .field("after_update", &self.after_update.len())
            .field("before_delete", &self.before_delete.len())
            .field("after_delete", &self.after_delete.len())
            .finish()
    }
}

fn before<T: DeserializeOwned + Serialize + 'static>(f: Before<T>) -> ErasedBefore {
    Arc::new(move |ctx, json: &mut Json| {
        let mut typed: T =
            serde_json::from_value(json.clone()).map_err(|e| Reject::new(500, format!("a hook's input did not parse: {e}")))?;
        f(ctx, &mut typed)?;
        *json = serde_json::to_value(&typed).map_err(|e| Reject::new(500, format!("a hook's input did not serialize: {e}")))?;
        Ok(())
    })
}

fn after<T: DeserializeOwned + 'static>(f: After<T>) -> ErasedAfter {
    Arc::new(move |ctx, json: &Json| {
        let typed = serde_json::from_value::<T>(json.clone()).map_err(|e| e.to_string())?;
        f(ctx, &typed);
        Ok(())
    })
}

impl<R, C, U> Hooks<R, C, U>
where
    R: DeserializeOwned + 'static,
    C: DeserializeOwned + Serialize + 'static,
    U: DeserializeOwned + Serialize + 'static,
{
    /// The model's name and its hooks as the server runs them.
    pub fn erase(self) -> (&'static str, ModelHooks) {
        let h = ModelHooks {
            before_create: self.before_create.into_iter().map(before).collect(),
            after_create: self.after_create.into_iter().map(after).collect(),
            before_update: self.before_update.into_iter().map(before).collect(),
            after_update: self.after_update.into_iter().map(after).collect(),
            before_delete: self.before_delete,
            after_delete: self
                .after_delete
                .into_iter()
                .map(|f| -> ErasedAfter {
                    Arc::new(move |ctx, id: &Json| {
                        f(ctx, id);
                        Ok(())
                    })
                })
                .collect(),
        };
        (self.model, h)
    }
}
