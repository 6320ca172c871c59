//! What GuardDuty found: the pure bands, criteria, gates and ordering
//! (plan.rs) beside the findings calls (calls.rs).

pub mod calls;
pub mod plan;
