//! What `which_children` and `count_children` report (rules 143-144, 162).

use rotp_runtime::Pid;

use crate::child_spec::{ChildId, ChildType};

/// The state of one child (rule 143).
///
/// ```
/// use rotp_supervisor::ChildStatus;
/// assert_eq!(ChildStatus::Restarting.pid(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildStatus {
    /// Started, with this pid.
    Running(Pid),
    /// A restart failed and is being retried (rule 132).
    Restarting,
    /// Not running (`undefined`): terminated, ignored, or a transient child
    /// that ended normally.
    Undefined,
}

impl ChildStatus {
    /// The pid, when running.
    pub fn pid(self) -> Option<Pid> {
        match self {
            ChildStatus::Running(pid) => Some(pid),
            ChildStatus::Restarting | ChildStatus::Undefined => None,
        }
    }
}

/// One entry of [`Supervisor::which_children`](crate::Supervisor::which_children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's id.
    pub id: ChildId,
    /// Its state.
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub child_type: ChildType,
}

/// One entry of
/// [`DynamicSupervisor::which_children`](crate::DynamicSupervisor::which_children)
/// (dynamic children have no id, rule 162).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicChildInfo {
    /// [`ChildStatus::Running`] or [`ChildStatus::Restarting`].
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub child_type: ChildType,
}

/// What `count_children` reports (rules 144, 162).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// All children, running or not.
    pub specs: usize,
    /// Children whose process is alive (restarting ones excluded).
    pub active: usize,
    /// Children declared as supervisors, running or not.
    pub supervisors: usize,
    /// Children declared as workers, running or not.
    pub workers: usize,
}

impl ChildCounts {
    /// Counts one child.
    pub(crate) fn add(&mut self, child_type: ChildType, active: bool) {
        self.specs += 1;
        if active {
            self.active += 1;
        }
        match child_type {
            ChildType::Worker => self.workers += 1,
            ChildType::Supervisor => self.supervisors += 1,
        }
    }
}
