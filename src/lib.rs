//! rotp facade.
pub use rotp_gen_server as gen_server;
pub use rotp_runtime as runtime;
