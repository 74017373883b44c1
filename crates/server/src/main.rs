//! agentgate binary
fn main() {}
