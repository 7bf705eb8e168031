//! The bank integrator's guide (`docs/INTEGRATOR.md`), included here so that
//! every one of its Rust examples is compiled and run as a doctest
//! (`cargo test -p cashpool-recon --doc`): the guide cannot drift from the API.

#![doc = include_str!("../../../docs/INTEGRATOR.md")]
