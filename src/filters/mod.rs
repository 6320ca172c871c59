//! Suppression rules (GuardDuty filters): the pure decision (plan.rs) beside its calls (calls.rs).

pub mod calls;
pub mod plan;
