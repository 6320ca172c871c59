//! Trusted IP lists and threat lists: the pure decision (plan.rs) beside its calls (calls.rs).

pub mod calls;
pub mod plan;
