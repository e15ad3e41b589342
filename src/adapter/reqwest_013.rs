//! The adapter for reqwest 0.13 and reqwest-middleware 0.5: the files under
//! `reqwest/`, compiled over these versions' types.

pub(crate) use ::reqwest;
pub(crate) use ::reqwest_middleware;

#[path = "reqwest/body.rs"]
mod body;
#[path = "reqwest/inspect.rs"]
mod inspect;
#[path = "reqwest/middleware.rs"]
mod middleware;
#[path = "reqwest/response.rs"]
mod response;
