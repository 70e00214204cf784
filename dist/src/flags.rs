//! Distribution capability flags (the `DFLAG_*` of the protocol).

pub(crate) const PUBLISHED: u64 = 0x1;
pub(crate) const EXTENDED_REFERENCES: u64 = 0x4;
pub(crate) const DIST_MONITOR: u64 = 0x8;
pub(crate) const FUN_TAGS: u64 = 0x10;
pub(crate) const DIST_MONITOR_NAME: u64 = 0x20;
pub(crate) const NEW_FUN_TAGS: u64 = 0x80;
pub(crate) const EXTENDED_PIDS_PORTS: u64 = 0x100;
pub(crate) const EXPORT_PTR_TAG: u64 = 0x200;
pub(crate) const BIT_BINARIES: u64 = 0x400;
pub(crate) const NEW_FLOATS: u64 = 0x800;
pub(crate) const UNICODE_IO: u64 = 0x1000;
pub(crate) const SMALL_ATOM_TAGS: u64 = 0x4000;
pub(crate) const UTF8_ATOMS: u64 = 0x10000;
pub(crate) const MAP_TAG: u64 = 0x20000;
pub(crate) const BIG_CREATION: u64 = 0x40000;
pub(crate) const SEND_SENDER: u64 = 0x80000;
pub(crate) const BIG_SEQTRACE_LABELS: u64 = 0x100000;
pub(crate) const EXIT_PAYLOAD: u64 = 0x400000;
pub(crate) const HANDSHAKE_23: u64 = 0x1000000;
pub(crate) const UNLINK_ID: u64 = 0x2000000;
pub(crate) const V4_NC: u64 = 1 << 34;
pub(crate) const ALIAS: u64 = 1 << 35;
pub(crate) const MANDATORY_25_DIGEST: u64 = 1 << 36;

/// What OTP 25 made mandatory; `MANDATORY_25_DIGEST` stands for all of it.
pub(crate) const MANDATORY_25: u64 = EXTENDED_REFERENCES
    | FUN_TAGS
    | NEW_FUN_TAGS
    | EXTENDED_PIDS_PORTS
    | EXPORT_PTR_TAG
    | BIT_BINARIES
    | NEW_FLOATS
    | UTF8_ATOMS
    | MAP_TAG
    | BIG_CREATION
    | HANDSHAKE_23;

/// What a peer must offer: OTP 25's mandatory set plus what this node
/// sends without a fallback (monitors, the new link protocol, 32-bit pid
/// fields, `SEND_SENDER`, payload exits, aliases). Every OTP release from
/// 24 on offers all of it.
pub(crate) const REQUIRED: u64 = MANDATORY_25
    | DIST_MONITOR
    | DIST_MONITOR_NAME
    | SEND_SENDER
    | EXIT_PAYLOAD
    | UNLINK_ID
    | V4_NC
    | ALIAS;

/// What this node offers (plus `PUBLISHED` when it is a visible node).
/// No atom cache and no fragments: frames travel whole, in the
/// pass-through format.
pub(crate) const OFFERED: u64 =
    REQUIRED | UNICODE_IO | SMALL_ATOM_TAGS | BIG_SEQTRACE_LABELS | MANDATORY_25_DIGEST;

/// A peer's flags with the digest bit expanded.
pub(crate) fn expand(flags: u64) -> u64 {
    if flags & MANDATORY_25_DIGEST != 0 {
        flags | MANDATORY_25
    } else {
        flags
    }
}

/// The required flags a peer lacks (zero if none).
pub(crate) fn missing(peer: u64) -> u64 {
    REQUIRED & !expand(peer)
}
