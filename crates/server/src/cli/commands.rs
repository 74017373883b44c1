//! What each subcommand does, once its options are resolved.

pub(crate) mod demo;
pub(crate) mod serve;
pub(crate) mod users;
