//! What GuardDuty costs: the pure sums and the budget gate (plan.rs) beside
//! the usage calls (calls.rs).

pub mod calls;
pub mod plan;
