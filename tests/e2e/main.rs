//! End-to-end tests: the real gdctl binary against moto (and a fault front) on loopback.

mod common;

mod config;
mod disable;
mod enable;
mod faults;
mod regions;
mod status;
