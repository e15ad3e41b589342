//! The adapter for reqwest 0.12 and reqwest-middleware 0.4
//! (feature `reqwest-012`): the files under
//! `reqwest/`, compiled over these versions' types.

pub(crate) use ::reqwest_0_12 as reqwest;
pub(crate) use ::reqwest_middleware_0_4 as reqwest_middleware;

#[path = "reqwest/body.rs"]
mod body;
#[path = "reqwest/inspect.rs"]
mod inspect;
#[path = "reqwest/middleware.rs"]
mod middleware;
#[path = "reqwest/response.rs"]
mod response;
