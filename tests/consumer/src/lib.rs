//! Compiles every example of the README as a doc test of a crate whose dependencies are
//! only the README's install snippet: `cargo test --doc` here fails if an example needs
//! something the README does not tell a user to add.

#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
