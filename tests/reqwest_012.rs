//! The behaviour tests once more, through reqwest 0.12 and reqwest-middleware 0.4 (feature
//! `reqwest-012`): the same files, compiled here with `reqwest` and `reqwest_middleware`
//! naming the older versions, so that every client, request and response in them is 0.12's
//! and the middleware under test is the `reqwest-012` adapter.
#![cfg(feature = "reqwest-012")]
// Each file brings its own `mod support;`: the helpers are compiled once per file, as they
// are when the files run on their own.
#![allow(clippy::duplicate_mod)]

extern crate reqwest_0_12 as reqwest;
extern crate reqwest_middleware_0_4 as reqwest_middleware;
extern crate reqwest_retry_0_7 as reqwest_retry;

#[path = "aws_403s.rs"]
mod aws_403s;
#[path = "aws_reexports.rs"]
mod aws_reexports;
#[path = "credentials_cache.rs"]
mod credentials_cache;
#[path = "default_chain.rs"]
mod default_chain;
#[path = "deployments.rs"]
mod deployments;
#[path = "diagnostics.rs"]
mod diagnostics;
#[path = "edges_routes.rs"]
mod edges_routes;
#[path = "edges_wire.rs"]
mod edges_wire;
#[path = "hardening.rs"]
mod hardening;
#[path = "middleware.rs"]
mod middleware;
#[path = "near_miss.rs"]
mod near_miss;
#[path = "proptest_signing.rs"]
mod proptest_signing;
#[path = "s3.rs"]
mod s3;
#[path = "secrets.rs"]
mod secrets;
#[path = "services.rs"]
mod services;
#[path = "sigv4a.rs"]
mod sigv4a;
#[path = "standins.rs"]
mod standins;
#[path = "summary_property.rs"]
mod summary_property;
#[path = "topologies.rs"]
mod topologies;
