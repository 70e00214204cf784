//! rotp facade.
pub use rotp_runtime as runtime;
