//! End-to-end tests: the real gdctl binary against moto (and a fault front) on loopback.

mod common;

mod bench;

mod account;
mod accounts;
mod apply;
mod config;
mod deadlines;
mod disable;
mod docs;
mod enable;
mod faults;
mod features;
mod findings;
mod hardening;
mod iam;
mod interrupt;
mod network;
mod org;
mod regions;
mod settings;
mod status;
mod trust;
mod usage;
